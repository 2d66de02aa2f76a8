//! The device side on a fake clock: poll timing, full and quick updates,
//! stale data, a device that is unplugged and comes back (reconnection
//! with bounded backoff), fatal errors, requests while the device is gone.

use nut_driver::{
    Device, DeviceError, Driver, DriverConfig, Dstate, Message, PollEvent, Poller, Request, Timing,
    TrackingResult, UpdateKind,
};
use std::time::{Duration, Instant};

/// What the scripted device does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Fine,
    NoAnswer,
    Unplugged,
    Broken,
}

#[derive(Debug)]
struct Scripted {
    mode: Mode,
    connects: u32,
    updates: Vec<UpdateKind>,
    shut_down: bool,
}

impl Scripted {
    fn new(mode: Mode) -> Self {
        Scripted { mode, connects: 0, updates: Vec::new(), shut_down: false }
    }
    fn check(&self) -> Result<(), DeviceError> {
        match self.mode {
            Mode::Fine => Ok(()),
            Mode::NoAnswer => Err(DeviceError::Stale(Message::cause("no answer"))),
            Mode::Unplugged => Err(DeviceError::Disconnected(Message::cause("unplugged"))),
            Mode::Broken => Err(DeviceError::Fatal(Message::cause("bad port"))),
        }
    }
}

impl Device for Scripted {
    fn connect(&mut self, st: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        self.check()?;
        self.connects += 1;
        st.setinfo("ups.mfr", "Scripted");
        st.addcmd("test.battery.start");
        Ok(())
    }
    fn update(&mut self, st: &mut Dstate, kind: UpdateKind, _: Instant) -> Result<(), DeviceError> {
        self.check()?;
        self.updates.push(kind);
        st.setinfo("ups.updates", &self.updates.len().to_string());
        Ok(())
    }
    fn instcmd(
        &mut self,
        _: &mut Dstate,
        cmd: &str,
        _: Option<&str>,
        _: Instant,
    ) -> TrackingResult {
        if cmd == "test.battery.start" { TrackingResult::Handled } else { TrackingResult::Unknown }
    }
    fn shutdown(&mut self, _: &mut Dstate, _: Instant) -> Result<(), DeviceError> {
        self.check()?;
        self.shut_down = true;
        Ok(())
    }
}

fn timing() -> Timing {
    Timing {
        poll_interval: Duration::from_secs(2),
        full_update: Some(Duration::from_secs(30)),
        reconnect_min: Duration::from_secs(1),
        reconnect_max: Duration::from_secs(16),
    }
}

fn events<D: Device>(p: &mut Poller<D>) -> Vec<String> {
    std::iter::from_fn(|| p.poll_event())
        .map(|e| match e {
            PollEvent::UpdateFailed(_) => "stale".to_string(),
            PollEvent::Recovered => "recovered".into(),
            PollEvent::Disconnected { retry_in, .. } => {
                format!("lost, retry {}s", retry_in.as_secs())
            }
            PollEvent::ReconnectFailed { retry_in, .. } => {
                format!("retry failed, next {}s", retry_in.as_secs())
            }
            PollEvent::Reconnected => "reconnected".into(),
            PollEvent::Fatal(_) => "fatal".into(),
            PollEvent::Handled { what, name, result } => format!("{what} {name} {}", result.code()),
            other => format!("{other:?}"),
        })
        .collect()
}

/// Advances to the poller's next deadline and runs it.
fn step<D: Device>(p: &mut Poller<D>) -> Instant {
    let t = p.poll_timeout().expect("a deadline");
    p.handle_timeout(t);
    t
}

#[test]
fn full_updates_every_pollfreq_quick_ones_between() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Fine), Dstate::new(), timing());
    p.start(t0).unwrap();
    assert_eq!(p.dstate().getinfo("driver.parameter.pollinterval"), Some("2"));
    assert_eq!(p.dstate().getinfo("device.mfr"), Some("Scripted"));
    let mut last = t0;
    for _ in 0..30 {
        last = step(&mut p);
    }
    assert_eq!(last, t0 + Duration::from_secs(60));
    let kinds = &p.device().updates;
    let full: Vec<usize> =
        kinds.iter().enumerate().filter(|(_, k)| **k == UpdateKind::Full).map(|(i, _)| i).collect();
    // At start, then every 30 s (15 polls of 2 s).
    assert_eq!(full, [0, 15, 30]);
    assert!(!p.dstate().is_stale());
}

#[test]
fn a_failed_poll_makes_data_stale_until_the_next_good_one() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Fine), Dstate::new(), timing());
    p.start(t0).unwrap();
    p.take_updates();
    p.with_state(|d, _| d.mode = Mode::NoAnswer);
    let t = step(&mut p);
    assert_eq!(t, t0 + Duration::from_secs(2), "a stale poll keeps the poll timing");
    assert_eq!(String::from_utf8(p.take_updates()).unwrap(), "DATASTALE\n");
    assert_eq!(events(&mut p), ["stale"]);
    p.with_state(|d, _| d.mode = Mode::Fine);
    step(&mut p);
    assert_eq!(String::from_utf8(p.take_updates()).unwrap(), "SETINFO ups.updates \"2\"\nDATAOK\n");
    assert_eq!(events(&mut p), ["recovered"]);
}

#[test]
fn unplug_and_replug_reconnects_with_bounded_backoff() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Fine), Dstate::new(), timing());
    p.start(t0).unwrap();
    p.take_updates();
    p.with_state(|d, _| d.mode = Mode::Unplugged);
    let lost_at = step(&mut p);
    assert!(!p.is_connected());
    assert_eq!(String::from_utf8(p.take_updates()).unwrap(), "DATASTALE\n");
    // Requests fail while the device is gone.
    let cmd = Request::InstCmd { cmd: "test.battery.start".into(), param: None };
    assert_eq!(p.handle_request(&cmd, lost_at), TrackingResult::Failed);
    // Attempts after 1, 2, 4, 8, 16, 16, 16 s.
    let mut at = Vec::new();
    let mut prev = lost_at;
    for _ in 0..7 {
        let t = step(&mut p);
        at.push((t - prev).as_secs());
        prev = t;
    }
    assert_eq!(at, [1, 2, 4, 8, 16, 16, 16]);
    assert_eq!(
        events(&mut p),
        [
            "lost, retry 1s",
            "INSTCMD test.battery.start 3",
            "retry failed, next 2s",
            "retry failed, next 4s",
            "retry failed, next 8s",
            "retry failed, next 16s",
            "retry failed, next 16s",
            "retry failed, next 16s",
            "retry failed, next 16s",
        ]
    );
    assert_eq!(p.device().connects, 1);
    // Plugged in again: the next attempt reconnects and reads everything.
    p.with_state(|d, _| d.mode = Mode::Fine);
    let back = step(&mut p);
    assert!(p.is_connected());
    assert_eq!(p.device().connects, 2);
    assert_eq!(p.device().updates.last(), Some(&UpdateKind::Full));
    assert_eq!(events(&mut p), ["reconnected", "recovered"]);
    assert!(String::from_utf8(p.take_updates()).unwrap().ends_with("DATAOK\n"));
    assert_eq!(p.handle_request(&cmd, back), TrackingResult::Handled);
    // Polling resumes on the poll interval, and the backoff starts over.
    assert_eq!(p.poll_timeout(), Some(back + Duration::from_secs(2)));
    p.with_state(|d, _| d.mode = Mode::Unplugged);
    let t = step(&mut p);
    assert_eq!(p.poll_timeout(), Some(t + Duration::from_secs(1)));
}

#[test]
fn a_device_missing_at_start_is_waited_for() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Unplugged), Dstate::new(), timing());
    p.start(t0).unwrap();
    assert!(p.dstate().is_stale());
    assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    p.with_state(|d, _| d.mode = Mode::Fine);
    step(&mut p);
    assert!(p.is_connected() && !p.dstate().is_stale());
    assert_eq!(p.dstate().getinfo("device.mfr"), Some("Scripted"));
}

#[test]
fn fatal_errors_stop_the_poller() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Broken), Dstate::new(), timing());
    assert!(matches!(p.start(t0), Err(DeviceError::Fatal(_))));
    let mut p = Poller::new(Scripted::new(Mode::Fine), Dstate::new(), timing());
    p.start(t0).unwrap();
    p.with_state(|d, _| d.mode = Mode::Broken);
    step(&mut p);
    assert!(p.is_dead());
    assert_eq!(p.poll_timeout(), None);
    assert_eq!(events(&mut p), ["fatal"]);
}

#[test]
fn kill_power_connects_and_shuts_down() {
    let t0 = Instant::now();
    let mut p = Poller::new(Scripted::new(Mode::Fine), Dstate::new(), timing());
    p.kill_power(t0).unwrap();
    assert!(p.device().shut_down);
    assert!(p.device().updates.is_empty(), "-k does not poll");
    let mut p = Poller::new(Scripted::new(Mode::Unplugged), Dstate::new(), timing());
    assert!(p.kill_power(t0).unwrap_err().is_disconnected());
}

#[test]
fn requests_from_upsd_reach_the_device_with_tracking() {
    let t0 = Instant::now();
    let mut d = Driver::new(Scripted::new(Mode::Fine), Dstate::new(), DriverConfig::default());
    d.start(t0).unwrap();
    let c = d.accept();
    d.handle_conn_bytes(
        c,
        b"INSTCMD test.battery.start TRACKING a1\nINSTCMD nope TRACKING a2\n",
        t0,
    );
    let out = d.poll_transmit(c).unwrap();
    assert_eq!(out, b"TRACKING a1 0\nTRACKING a2 1\n");
}
