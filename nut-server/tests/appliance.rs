//! The appliance example (examples/appliance.rs, compiled in here as it
//! is): Debian's `upsc` reads the UPS it serves, and an outage (OB, then
//! OB LB) drives its monitor to the shutdown command.

#[allow(dead_code, unreachable_pub)]
#[path = "../examples/appliance.rs"]
mod example;

use nut_testkit::{free_port, peer, temp_dir, wait_until};
use std::process::Command;
use std::time::Duration;

fn upsc(target: &str, var: &str) -> String {
    let out = Command::new(peer("upsc")).args([target, var]).output().expect("run upsc");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn upsc_reads_it_and_an_outage_runs_the_shutdown_command() {
    let dir = temp_dir();
    let dev = dir.path().join("ups.dev");
    let done = dir.path().join("shutdown-done");
    std::fs::write(&dev, "ups.mfr: Example\nups.status: OL\nbattery.charge: 100\n").unwrap();
    let port = free_port();
    let target = format!("ups@127.0.0.1:{port}");
    let (tx, rx) = std::sync::mpsc::channel();
    let (d, c) = (dev.display().to_string(), format!("touch '{}'", done.display()));
    std::thread::spawn(move || {
        let r = example::appliance(&d, &c, &format!("127.0.0.1:{port}"));
        let _ = tx.send(r.map_err(|e| e.to_string()));
    });

    let every = Duration::from_millis(100);
    let on_line =
        wait_until(Duration::from_secs(20), every, || upsc(&target, "ups.status") == "OL");
    assert!(on_line, "upsc never saw OL: {:?}", upsc(&target, "ups.status"));
    // The whole tree, as a stock client sees it.
    let all = Command::new(peer("upsc")).arg(&target).output().unwrap();
    let all = String::from_utf8_lossy(&all.stdout);
    assert!(all.contains("ups.mfr: Example\n"), "{all}");
    assert!(all.contains("battery.charge: 100\n"), "{all}");
    let list = Command::new(peer("upsc")).arg("-L").arg(format!("127.0.0.1:{port}")).output();
    assert_eq!(String::from_utf8_lossy(&list.unwrap().stdout), "ups: Appliance UPS\n");

    std::fs::write(&dev, "ups.status: OB\n").unwrap();
    let on_battery =
        wait_until(Duration::from_secs(20), every, || upsc(&target, "ups.status") == "OB");
    assert!(on_battery, "upsc never saw OB");
    assert!(!done.exists(), "shut down on battery alone");

    std::fs::write(&dev, "ups.status: OB LB\n").unwrap();
    let ended = rx.recv_timeout(Duration::from_secs(60)).expect("no shutdown within 60 s");
    assert_eq!(ended, Ok(()));
    assert!(done.exists(), "the shutdown command did not run");
}

/// A device that is always on line.
struct OnLine;

impl nut_driver::Device for OnLine {
    fn connect(
        &mut self,
        _: &mut nut_driver::Dstate,
        _: std::time::Instant,
    ) -> Result<(), nut_driver::DeviceError> {
        Ok(())
    }
    fn update(
        &mut self,
        st: &mut nut_driver::Dstate,
        _: nut_driver::UpdateKind,
        _: std::time::Instant,
    ) -> Result<(), nut_driver::DeviceError> {
        st.setinfo("ups.status", "OL");
        Ok(())
    }
}

/// `Embedded::run` inside the caller's runtime (no thread of its own),
/// stopped with `Control::Shutdown`.
#[test]
fn embedded_runs_inside_a_runtime_until_shutdown() {
    use nut_server::upsd::io::{Control, Embedded};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

    let driver = nut_driver::inproc::InProcess::spawn(OnLine).unwrap();
    let port = free_port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let server = Embedded::new().listen(addr).with_ups("ups", None, move || driver.connect());
        let client = async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            let mut last = String::new();
            // Ready once the listener is up and the driver's dump is in.
            while tokio::time::Instant::now() < deadline {
                if let Ok(s) = tokio::net::TcpStream::connect(addr).await {
                    let mut s = BufReader::new(s);
                    s.get_mut().write_all(b"GET VAR ups ups.status\n").await.unwrap();
                    last.clear();
                    s.read_line(&mut last).await.unwrap();
                    if last == "VAR ups ups.status \"OL\"\n" {
                        break;
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            tx.send(Control::Shutdown).await.unwrap();
            last
        };
        let (ran, last) = tokio::join!(server.run(rx), client);
        ran.unwrap();
        assert_eq!(last, "VAR ups ups.status \"OL\"\n");
    });
}
