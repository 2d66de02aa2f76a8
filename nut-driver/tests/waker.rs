//! A device's own thread wakes the device thread ([`Device::set_waker`]): with a
//! poll interval of an hour, only the waker can make the core update the device, and
//! the change it publishes reaches `upsd`'s socket at once. Each adapter: the
//! blocking one the binaries run, the tokio `serve_until`, and `InProcess`.
#![cfg(all(feature = "io", feature = "inproc"))]

use nut_driver::inproc::InProcess;
use nut_driver::io::Exit;
use nut_driver::{Device, DeviceError, DriverConfig, Dstate, Poller, SocketServer, Timing};
use nut_driver::{UpdateKind, Waker};
use nut_testkit::driver::{self, Blocking, Tokio, read_until};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

/// A device with a thread of its own (as usbhid-ups' interrupt listener): when the
/// test says so, the thread marks news and wakes the core; the next update
/// publishes `OB`.
struct Listening {
    /// The test's signal to the device's thread.
    go: Option<mpsc::Receiver<()>>,
    news: Arc<AtomicBool>,
    updates: Arc<std::sync::atomic::AtomicU32>,
    born: Instant,
}

impl Device for Listening {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        self.updates.fetch_add(1, Ordering::SeqCst);
        if self.news.swap(false, Ordering::SeqCst) {
            st.setinfo("ups.status", "OB");
        }
        Ok(())
    }
    fn next_wakeup(&self) -> Option<Instant> {
        // Any instant already past: due at once.
        self.news.load(Ordering::SeqCst).then_some(self.born)
    }
    fn set_waker(&mut self, waker: Waker) {
        let Some(go) = self.go.take() else { return };
        let news = self.news.clone();
        std::thread::spawn(move || {
            if go.recv_timeout(Duration::from_secs(60)).is_ok() {
                news.store(true, Ordering::SeqCst);
                waker.wake();
            }
        });
    }
}

/// An hour between polls: only the waker gets the device updated in a test.
fn timing() -> Timing {
    Timing { poll_interval: Duration::from_secs(3600), full_update: None, ..Timing::default() }
}

struct Setup {
    _dir: tempfile::TempDir,
    sock: std::path::PathBuf,
    go: mpsc::Sender<()>,
    updates: Arc<std::sync::atomic::AtomicU32>,
    poller: Poller<Listening>,
    server: SocketServer,
    listener: std::os::unix::net::UnixListener,
}

fn device() -> (Listening, mpsc::Sender<()>, Arc<std::sync::atomic::AtomicU32>) {
    let (go, go_rx) = mpsc::channel();
    let updates = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let d = Listening {
        go: Some(go_rx),
        news: Arc::default(),
        updates: updates.clone(),
        born: Instant::now(),
    };
    (d, go, updates)
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("woken-ups");
    let (device, go, updates) = device();
    let (poller, server, listener) = driver::started(device, Dstate::new(), timing(), &sock);
    Setup { _dir: dir, sock, go, updates, poller, server, listener }
}

/// What `upsd` sees: `OL` in the dump, then `OB` once the device's thread wakes
/// the core, with no poll due for an hour.
fn check_woken(
    sock: &std::path::Path,
    go: &mpsc::Sender<()>,
    updates: &std::sync::atomic::AtomicU32,
) {
    let conn = UnixStream::connect(sock).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    w.write_all(b"DUMPALL\n").unwrap();
    let dump = read_until(&mut r, "DUMPDONE");
    assert!(dump.contains(&"SETINFO ups.status \"OL\"".to_string()), "{dump:?}");
    let before = updates.load(Ordering::SeqCst);
    go.send(()).unwrap();
    read_until(&mut r, "SETINFO ups.status \"OB\"");
    assert_eq!(updates.load(Ordering::SeqCst), before + 1, "one update, for the wake-up");
}

#[test]
fn the_blocking_adapter_updates_a_device_that_wakes_it() {
    let Setup { _dir, sock, go, updates, poller, server, listener } = setup();
    let served = Blocking::start((poller, server, listener));
    check_woken(&sock, &go, &updates);
    assert!(matches!(served.stop().unwrap(), Exit::Requested));
}

#[test]
fn serve_until_updates_a_device_that_wakes_it() {
    let Setup { _dir, sock, go, updates, poller, server, listener } = setup();
    let served = Tokio::start((poller, server, listener), 1);
    check_woken(&sock, &go, &updates);
    assert!(matches!(served.stop().unwrap(), Exit::Requested));
}

#[test]
fn in_process_updates_a_device_that_wakes_it() {
    let (device, go, updates) = device();
    let config = DriverConfig { timing: timing(), ..DriverConfig::default() };
    let driver = InProcess::spawn_with(device, Dstate::new(), config).unwrap();
    let mut link = driver.connect().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let (rd, mut wr) = tokio::io::split(&mut link);
        let mut lines = tokio::io::BufReader::new(rd).lines();
        let mut next = async || {
            tokio::time::timeout(Duration::from_secs(10), lines.next_line())
                .await
                .expect("a line within 10 s")
                .unwrap()
                .expect("the link is open")
        };
        wr.write_all(b"DUMPALL\n").await.unwrap();
        let mut dump = Vec::new();
        while dump.last().map(String::as_str) != Some("DUMPDONE") {
            dump.push(next().await);
        }
        assert!(dump.contains(&"SETINFO ups.status \"OL\"".to_string()), "{dump:?}");
        let before = updates.load(Ordering::SeqCst);
        go.send(()).unwrap();
        while next().await != "SETINFO ups.status \"OB\"" {}
        assert_eq!(updates.load(Ordering::SeqCst), before + 1);
    });
}
