//! NUT's FAQ 9 wish, the NAS appliance, in one process: a device driven
//! in-process, served on the network (`upsc ups@<address>` reads it), and
//! watched by the monitor, which runs the shutdown command once the
//! battery is low.
//!
//! ```text
//! echo 'ups.status: OL' > /tmp/ups.dev
//! cargo run -p nut-server --example appliance -- /tmp/ups.dev 'echo shutdown' 127.0.0.1:3493
//! upsc ups@127.0.0.1:3493
//! echo 'ups.status: OB LB' > /tmp/ups.dev     # the monitor shuts down
//! ```

use nut_client::monitor::{Monitor, MonitorDef, Role, UpsmonConf, io::blocking::Runner};
use nut_driver::{Device, DeviceError, Dstate, UpdateKind, inproc::InProcess};
use nut_server::upsd::{User, io::Embedded};
use std::{error::Error, path::PathBuf, process::Command, time::Instant};

/// A UPS simulated from `variable: value` lines (as in a dummy-ups `.dev`
/// file), read again at every poll.
struct DevFile(PathBuf);

impl Device for DevFile {
    fn connect(&mut self, st: &mut Dstate, now: Instant) -> Result<(), DeviceError> {
        self.update(st, UpdateKind::Full, now)
    }
    fn update(&mut self, st: &mut Dstate, _: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        let text = std::fs::read_to_string(&self.0).map_err(DeviceError::stale)?;
        for (var, value) in text.lines().filter_map(|l| l.split_once(':')) {
            st.setinfo(var.trim(), value.trim());
        }
        Ok(())
    }
}

/// Drives `dev_file`, serves it as `ups` on `listen`, and runs
/// `shutdown_cmd` when the monitor says so.
pub fn appliance(dev_file: &str, shutdown_cmd: &str, listen: &str) -> Result<(), Box<dyn Error>> {
    let driver = InProcess::spawn(DevFile(dev_file.into()))?;
    let upsd = Embedded::new()
        .listen(listen.parse()?)
        .with_ups("ups", Some("Appliance UPS"), move || driver.connect())
        .with_user(User::upsmon_primary("monuser", "secret"))
        .spawn()?;
    let system = format!("ups@{}", upsd.local_addrs()[0]);
    let def = MonitorDef::new(&system, 1, "monuser", "secret", Role::Primary)?;
    let conf = UpsmonConf::default().with_monitor(def).with_poll_freq(2, 1).with_final_delay(0);
    let mut monitor = Runner::new(Monitor::new(conf, Instant::now()));
    println!("serving {system}");
    monitor.run_until_shutdown(|action| println!("{action}"));
    Command::new("/bin/sh").arg("-c").arg(shutdown_cmd).status()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let (args, usage) =
        (std::env::args().collect::<Vec<_>>(), "usage: appliance FILE COMMAND [ADDR]");
    let (dev_file, shutdown_cmd) = (args.get(1).ok_or(usage)?, args.get(2).ok_or(usage)?);
    appliance(dev_file, shutdown_cmd, args.get(3).map_or("127.0.0.1:3493", |a| a))
}
