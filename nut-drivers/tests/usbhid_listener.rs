//! usbhid-ups with an interrupt listener thread, as the binary runs it: on the
//! blocking adapter, over a link that shares its interrupt pipe
//! (`HidLink::interrupt_pipe`). With polls an hour apart, a report the device
//! sends reaches the driver socket at once through the listener (the device thread
//! never waits on the pipe itself); a pipe that says the device is gone makes the
//! data stale, the device is reconnected, and a new listener serves the next report.

mod common;

use common::ac_present_report;
use nut_driver::{Dstate, Timing};
use nut_drivers::usbhid::{INTERRUPT_WAIT, Settings, UsbhidUps};
use nut_testkit::driver::{self, Blocking, read_until};
use nut_testkit::hid::{Piped, ReplayHid};
use std::io::{BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Duration;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hid")
}

#[test]
fn reports_reach_the_socket_through_the_listener_and_survive_a_replug() {
    let name = "apc-back-ups-es-850g2_issue1304";
    let hid = data().join(format!("{name}.hid"));
    let report = |on_mains| ac_present_report(&hid, on_mains);

    let link = Piped::new(ReplayHid::from_file(&hid).unwrap());
    let (pipe, own_reads, pipes) = (link.pipe.clone(), link.own_reads.clone(), link.pipes.clone());
    // Polls an hour apart: only the listener can bring a report in time.
    let hour = Duration::from_secs(3600);
    let settings = Settings {
        poll_interval: hour,
        pollfreq: hour,
        interrupt_wait: Some(INTERRUPT_WAIT),
        ..Settings::default()
    };
    let timing = Timing {
        poll_interval: hour,
        full_update: Some(hour),
        reconnect_min: Duration::from_millis(50),
        ..Timing::default()
    };
    let dir = nut_testkit::temp_dir();
    let sock = dir.path().join("usbhid-ups-u");
    let device = UsbhidUps::new(link, settings);
    let served = Blocking::start(driver::started(device, Dstate::new(), timing, &sock));

    let conn = UnixStream::connect(&sock).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut w = conn.try_clone().unwrap();
    let mut r = BufReader::new(conn);
    w.write_all(b"DUMPALL\n").unwrap();
    let dump = read_until(&mut r, "DUMPDONE");
    assert!(dump.iter().any(|l| l.starts_with("SETINFO ups.status \"OL")), "{dump:?}");

    // Mains lost: the listener hears it, the device thread publishes it.
    pipe.send(report(0));
    let lines = read_until(&mut r, "SETINFO ups.status \"OB");
    assert!(!lines.iter().any(|l| l == "DATASTALE"), "{lines:?}");

    // The device goes away and comes back: stale, reconnected (which reads the
    // status back from the device: on mains), and the new listener brings the
    // next report.
    pipe.unplug();
    read_until(&mut r, "DATASTALE");
    let back = read_until(&mut r, "DATAOK");
    assert!(back.iter().any(|l| l.starts_with("SETINFO ups.status \"OL")), "{back:?}");
    pipe.send(report(0));
    read_until(&mut r, "SETINFO ups.status \"OB");

    assert_eq!(own_reads.load(Ordering::SeqCst), 0, "the device thread never waited on the pipe");
    assert_eq!(pipes.load(Ordering::SeqCst), 2, "a listener before and after the replug");
    assert!(served.is_running(), "the server still runs");
}
