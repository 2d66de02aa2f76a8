//! Both daemon adapters (tokio's `serve_until`, and `BlockingServer`, what
//! `run` uses) with a device that hangs: while a device call is blocked,
//! `upsd`'s PING gets its PONG and a new connection gets its DUMPALL
//! answer, and an INSTCMD is answered once the device is back; a fatal
//! device error ends the blocking adapter.

#![cfg(feature = "io")]

use nut_driver::UpdateKind;
use nut_driver::io::Exit;
use nut_driver::{Device, DeviceError, Dstate, Poller, SocketServer, Timing, TrackingResult};
use nut_testkit::driver::{self, Blocking, Tokio, read_until};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A device whose updates after the first block until the test lets them
/// go; it says when it is blocked.
struct Hanging {
    entered: mpsc::Sender<()>,
    release: mpsc::Receiver<()>,
    updates: u32,
}

impl Device for Hanging {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        st.addcmd("beeper.toggle");
        Ok(())
    }
    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        self.updates += 1;
        if self.updates > 1 {
            let _ = self.entered.send(());
            // Blocks like a device that stopped answering (bounded, so a
            // broken test cannot hang for ever).
            let _ = self.release.recv_timeout(Duration::from_secs(60));
        }
        st.setinfo("ups.updates", &self.updates.to_string());
        Ok(())
    }
    fn instcmd(&mut self, _: &mut Dstate, _: &str, _: Option<&str>, _: Instant) -> TrackingResult {
        TrackingResult::Handled
    }
}

/// A started poller on a hanging device, its socket server and listener.
struct Setup {
    _dir: tempfile::TempDir,
    sock: std::path::PathBuf,
    entered: mpsc::Receiver<()>,
    release: mpsc::Sender<()>,
    poller: Poller<Hanging>,
    server: SocketServer,
    listener: std::os::unix::net::UnixListener,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("hang-ups");
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    let device = Hanging { entered: entered_tx, release: release_rx, updates: 0 };
    let timing = Timing { poll_interval: Duration::from_millis(50), ..Timing::default() };
    let (poller, server, listener) = driver::started(device, Dstate::new(), timing, &sock);
    Setup { _dir: dir, sock, entered, release, poller, server, listener }
}

/// What `upsd` sees while the device hangs, then once it is released.
fn check_served_while_hanging(
    sock: &std::path::Path,
    entered: &mpsc::Receiver<()>,
    release: &mpsc::Sender<()>,
) {
    // The second update blocks inside the device.
    entered.recv_timeout(Duration::from_secs(10)).expect("the device is called");
    let timeout = Some(Duration::from_secs(5));
    let conn = UnixStream::connect(sock).unwrap();
    conn.set_read_timeout(timeout).unwrap();
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    let t = Instant::now();
    w.write_all(b"PING\n").unwrap();
    assert_eq!(read_until(&mut r, "PONG"), ["PONG"]);
    w.write_all(b"DUMPALL\n").unwrap();
    let dump = read_until(&mut r, "DUMPDONE");
    let answered_in = t.elapsed();
    assert!(dump.contains(&"SETINFO ups.status \"OL\"".to_string()), "{dump:?}");
    assert!(dump.contains(&"DATAOK".to_string()));
    // A new connection is served too, while the device is still blocked.
    let conn2 = UnixStream::connect(sock).unwrap();
    conn2.set_read_timeout(timeout).unwrap();
    let mut w2 = conn2.try_clone().unwrap();
    let mut r2 = BufReader::new(conn2);
    w2.write_all(b"DUMPALL\n").unwrap();
    assert!(read_until(&mut r2, "DUMPDONE").len() > 3);
    // Nothing has released the device yet: every answer above came while it
    // was blocked.
    assert!(entered.try_recv().is_err(), "the device was not called again");
    eprintln!("PING + DUMPALL answered in {answered_in:?} while the device was blocked");

    // An INSTCMD waits for the device, and is answered when it is back.
    w.write_all(b"INSTCMD beeper.toggle TRACKING 77\n").unwrap();
    release.send(()).unwrap();
    let lines = read_until(&mut r, "TRACKING 77");
    assert_eq!(lines.last().map(String::as_str), Some("TRACKING 77 0"));
}

#[test]
fn a_hanging_device_never_stalls_the_socket() {
    let Setup { _dir, sock, entered, release, poller, server, listener } = setup();
    let served = Tokio::start((poller, server, listener), 2);
    check_served_while_hanging(&sock, &entered, &release);
    assert!(matches!(served.stop().unwrap(), Exit::Requested));
    // Let the device thread go (it may be blocked in the next update).
    drop(release);
}

#[test]
fn a_hanging_device_never_stalls_the_blocking_adapter() {
    let Setup { _dir, sock, entered, release, poller, server, listener } = setup();
    let served = Blocking::start((poller, server, listener));
    check_served_while_hanging(&sock, &entered, &release);
    assert!(matches!(served.stop().unwrap(), Exit::Requested));
    drop(release);
}

/// A device whose second update is fatal.
struct Doomed(u32);

impl Device for Doomed {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
    fn update(&mut self, _: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        self.0 += 1;
        if self.0 > 1 {
            return Err(DeviceError::fatal(nut_driver::Message::cause("the unit caught fire")));
        }
        Ok(())
    }
}

#[test]
fn a_fatal_device_error_ends_the_blocking_adapter() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("doomed-ups");
    let timing = Timing { poll_interval: Duration::from_millis(20), ..Timing::default() };
    let served = Blocking::start(driver::started(Doomed(0), Dstate::new(), timing, &sock));
    // Stopped if it has not ended by then.
    match served.wait(Duration::from_secs(20)).expect("the adapter ended").unwrap() {
        Exit::Fatal(e) => assert!(e.to_string().contains("caught fire"), "{e}"),
        other => panic!("{other:?}"),
    }
}
