//! The in-process link (feature `inproc`): the socket side answers while
//! a device call blocks, and a tracked INSTCMD's result comes back.
#![cfg(feature = "inproc")]

use nut_driver::inproc::InProcess;
use nut_driver::{Device, DeviceError, Dstate, TrackingResult, UpdateKind};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

/// A device whose `INSTCMD` blocks until the test releases it.
struct Slow {
    release: Arc<Mutex<mpsc::Receiver<()>>>,
    started: mpsc::Sender<()>,
}

impl Device for Slow {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        st.addcmd("test.battery.start");
        Ok(())
    }
    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
    fn instcmd(
        &mut self,
        _: &mut Dstate,
        cmd: &str,
        _: Option<&str>,
        _: Instant,
    ) -> TrackingResult {
        let _ = self.started.send(());
        // Bounded, so that a failing test does not hang in `drop(driver)`.
        let _ = self.release.lock().unwrap().recv_timeout(Duration::from_secs(20));
        if cmd == "test.battery.start" { TrackingResult::Handled } else { TrackingResult::Invalid }
    }
}

async fn line(link: &mut BufReader<DuplexStream>) -> String {
    let mut l = String::new();
    let read = tokio::time::timeout(Duration::from_secs(10), link.read_line(&mut l));
    read.await.expect("a line within 10 s").unwrap();
    l
}

#[test]
fn ping_is_answered_while_the_device_is_busy() {
    let (release_tx, release_rx) = mpsc::channel();
    let (started_tx, started_rx) = mpsc::channel();
    let dev = Slow { release: Arc::new(Mutex::new(release_rx)), started: started_tx };
    let driver = InProcess::spawn(dev).unwrap();
    let mut link = BufReader::new(driver.connect().unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        link.get_mut().write_all(b"DUMPALL\n").await.unwrap();
        let mut dump = Vec::new();
        loop {
            let l = line(&mut link).await;
            let done = l == "DUMPDONE\n";
            dump.push(l);
            if done {
                break;
            }
        }
        assert!(dump.contains(&"SETINFO ups.status \"OL\"\n".to_string()), "{dump:?}");
        assert!(dump.contains(&"ADDCMD test.battery.start\n".to_string()), "{dump:?}");
        assert!(dump.contains(&"DATAOK\n".to_string()), "{dump:?}");

        link.get_mut().write_all(b"INSTCMD test.battery.start TRACKING abc\n").await.unwrap();
        // The device is now inside `instcmd`, blocked.
        started_rx.recv_timeout(Duration::from_secs(10)).expect("the device got the command");
        link.get_mut().write_all(b"PING\n").await.unwrap();
        assert_eq!(line(&mut link).await, "PONG\n");
        release_tx.send(()).unwrap();
        assert_eq!(line(&mut link).await, "TRACKING abc 0\n");
    });
    drop(link);
    // Stops both threads.
    drop(driver);
}

#[test]
fn a_second_link_gets_the_state_and_the_first_closing_is_harmless() {
    let (_release_tx, release_rx) = mpsc::channel();
    let (started_tx, _started_rx) = mpsc::channel();
    let dev = Slow { release: Arc::new(Mutex::new(release_rx)), started: started_tx };
    let driver = InProcess::spawn(dev).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        drop(driver.connect().unwrap());
        let mut link = BufReader::new(driver.connect().unwrap());
        link.get_mut().write_all(b"DUMPVALUE ups.status\nGETPID\n").await.unwrap();
        assert_eq!(line(&mut link).await, "SETINFO ups.status \"OL\"\n");
        assert_eq!(line(&mut link).await, "DATAOK\n");
        assert_eq!(line(&mut link).await, "DUMPDONE\n");
        assert_eq!(line(&mut link).await, format!("PID {}\n", std::process::id()));
    });
}
