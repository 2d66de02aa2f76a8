//! Every API call of `nut-client`, written once and run through both
//! adapters (blocking and tokio), against Debian's `upsd` and ours.

mod support;

use nut_client::io::{Backoff, ConnectOptions};
use nut_client::ops::{self, Operation, TrackingStatus, WaitOptions};
use nut_client::{ClientError, HostPort, TransportError};
use nut_proto::ErrCode;
use std::time::Duration;
use support::{Which, start};

/// What the cases need from an adapter.
trait Adapter: Sized {
    const NAME: &'static str;
    fn connect(server: &HostPort) -> Result<Self, ClientError>;
    fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, ClientError>;
}

struct Blocking(nut_client::io::blocking::Client);

impl Adapter for Blocking {
    const NAME: &'static str = "blocking";
    fn connect(server: &HostPort) -> Result<Self, ClientError> {
        nut_client::io::blocking::Client::connect(server, ConnectOptions::default()).map(Blocking)
    }
    fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, ClientError> {
        self.0.run(op)
    }
}

struct Tokio(tokio::runtime::Runtime, nut_client::io::tokio::Client);

impl Adapter for Tokio {
    const NAME: &'static str = "tokio";
    fn connect(server: &HostPort) -> Result<Self, ClientError> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let c =
            rt.block_on(nut_client::io::tokio::Client::connect(server, ConnectOptions::default()))?;
        Ok(Tokio(rt, c))
    }
    fn run<O: Operation>(&mut self, op: O) -> Result<O::Output, ClientError> {
        self.0.block_on(self.1.run(op))
    }
}

fn server_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> ErrCode<'static> {
    match r {
        Err(ClientError::Server { code, .. }) => code,
        other => panic!("expected a server error, got {other:?}"),
    }
}

fn cases<A: Adapter>(which: Which) {
    let srv = start(which);
    let at = HostPort::parse(&srv.host()).unwrap();
    let ctx = format!("{} adapter, {which:?} upsd", A::NAME);
    let mut c = A::connect(&at).unwrap();

    assert!(c.run(ops::ver()).unwrap().starts_with("Network UPS Tools upsd "), "{ctx}");
    assert_eq!(c.run(ops::netver()).unwrap(), "1.3", "{ctx}");
    assert_eq!(c.run(ops::protver()).unwrap(), "1.3", "{ctx}");
    assert!(c.run(ops::help()).unwrap().starts_with("Commands: HELP VER"), "{ctx}");

    let upses = c.run(ops::list_ups()).unwrap();
    let names: Vec<_> = upses.iter().map(|u| (u.name.as_str(), u.desc.as_str())).collect();
    assert_eq!(
        names,
        [("dummy", "Test \"quoted\" # box"), ("other", "Description unavailable")],
        "{ctx}"
    );

    let vars = c.run(ops::list_vars("dummy")).unwrap();
    assert!(
        vars.iter().any(|v| v.name == "ups.id" && v.value == "Quote\"Corpx"),
        "{ctx}: {vars:?}"
    );
    assert!(!c.run(ops::list_rw("dummy")).unwrap().is_empty(), "{ctx}");
    assert_eq!(c.run(ops::list_cmds("dummy")).unwrap(), ["load.off"], "{ctx}");
    assert_eq!(c.run(ops::list_clients("dummy")).unwrap(), Vec::<String>::new(), "{ctx}");
    assert_eq!(c.run(ops::list_enum("dummy", "ups.id")).unwrap(), Vec::<String>::new(), "{ctx}");
    assert_eq!(c.run(ops::list_range("dummy", "ups.id")).unwrap(), vec![], "{ctx}");
    assert_eq!(server_err(c.run(ops::list_vars("nosuchups"))), ErrCode::UnknownUps, "{ctx}");
    assert_eq!(server_err(c.run(ops::list_enum("dummy", "nope"))), ErrCode::VarNotSupported);

    assert_eq!(c.run(ops::get_var("dummy", "ups.status")).unwrap(), "OL", "{ctx}");
    assert_eq!(c.run(ops::get_var("DUMMY", "UPS.STATUS")).unwrap(), "OL", "{ctx}");
    assert_eq!(server_err(c.run(ops::get_var("dummy", "nope.var"))), ErrCode::VarNotSupported);
    assert_eq!(server_err(c.run(ops::get_var("nosuchups", "ups.status"))), ErrCode::UnknownUps);
    let ty = c.run(ops::get_type("dummy", "ups.id")).unwrap();
    assert!(ty.kind.is_some(), "{ctx}: {ty:?}");
    assert_eq!(c.run(ops::get_desc("dummy", "ups.status")).unwrap(), "UPS status", "{ctx}");
    assert_eq!(
        c.run(ops::get_cmd_desc("dummy", "load.off")).unwrap(),
        "Turn off the load immediately",
        "{ctx}"
    );
    assert_eq!(c.run(ops::get_ups_desc("other")).unwrap(), "Unavailable", "{ctx}");
    assert!(!c.run(ops::get_tracking_mode()).unwrap(), "{ctx}");

    let described = c.run(ops::describe_vars("dummy")).unwrap();
    assert_eq!(described.len(), vars.len(), "{ctx}");
    let status = described.iter().find(|v| v.name == "ups.status").unwrap();
    assert_eq!((status.value.as_str(), status.desc.as_deref()), ("OL", Some("UPS status")));
    assert!(described.iter().all(|v| v.ty.is_some()), "{ctx}");
    assert!(!c.run(ops::describe_rw("dummy")).unwrap().is_empty());
    let cmds = c.run(ops::describe_cmds("dummy")).unwrap();
    assert_eq!(cmds[0].desc.as_deref(), Some("Turn off the load immediately"), "{ctx}");

    // Privileged commands.
    assert_eq!(server_err(c.run(ops::login("dummy"))), ErrCode::UsernameRequired, "{ctx}");
    c.run(ops::authenticate("admin", "adminpass")).unwrap();
    assert_eq!(server_err(c.run(ops::username("again"))), ErrCode::AlreadySetUsername);
    assert_eq!(server_err(c.run(ops::login("dummy"))), ErrCode::AccessDenied, "{ctx}");
    assert_eq!(server_err(c.run(ops::primary("dummy"))), ErrCode::AccessDenied, "{ctx}");
    assert_eq!(c.run(ops::set_var("dummy", "ups.id", "plain")).unwrap(), None, "{ctx}");
    assert_eq!(c.run(ops::instcmd("dummy", "load.off", Some("5"))).unwrap(), None, "{ctx}");
    assert_eq!(
        server_err(c.run(ops::instcmd("dummy", "nope.cmd", None))),
        ErrCode::CmdNotSupported
    );
    assert_eq!(
        server_err(c.run(ops::set_var("dummy", "ups.id", "12345678901234567"))),
        ErrCode::TooLong
    );
    let wait =
        WaitOptions { timeout: Duration::from_secs(10), interval: Duration::from_millis(50) };
    assert_eq!(
        c.run(ops::set_var_wait("dummy", "ups.id", "tracked", wait)).unwrap(),
        TrackingStatus::Success,
        "{ctx}"
    );
    assert_eq!(
        c.run(ops::instcmd_wait("dummy", "load.off", None, wait)).unwrap(),
        TrackingStatus::Failed(ErrCode::Unknown),
        "{ctx}"
    );
    // Tracking is now on for this connection.
    let id = c.run(ops::set_var("dummy", "ups.id", "again")).unwrap().expect("a tracking id");
    assert_eq!(id.len(), 36, "{ctx}");
    let _ = c.run(ops::get_tracking(&id)).unwrap();
    assert_eq!(
        c.run(ops::get_tracking("00000000-0000-4000-8000-000000000000")).unwrap(),
        TrackingStatus::Failed(ErrCode::Unknown)
    );
    c.run(ops::set_tracking(false)).unwrap();
    // OK only means "handed to the driver": wait (bounded) for the new value.
    let mut seen = String::new();
    let changed =
        nut_testkit::wait_until(Duration::from_secs(10), Duration::from_millis(20), || {
            seen = c.run(ops::get_var("dummy", "ups.id")).unwrap();
            seen == "again"
        });
    assert!(changed, "{ctx}: ups.id is {seen:?}");

    // A primary user; FSD.
    let mut p = A::connect(&at).unwrap();
    p.run(ops::authenticate("monprimary", "primarypass")).unwrap();
    p.run(ops::login("dummy")).unwrap();
    assert_eq!(server_err(p.run(ops::login("dummy"))), ErrCode::AlreadyLoggedIn, "{ctx}");
    p.run(ops::primary("dummy")).unwrap();
    assert_eq!(p.run(ops::get_num_logins("dummy")).unwrap(), 1, "{ctx}");
    assert_eq!(p.run(ops::list_clients("dummy")).unwrap(), ["127.0.0.1"], "{ctx}");
    p.run(ops::logout()).unwrap();
    assert!(p.run(ops::ver()).is_err(), "{ctx}: the server closes after LOGOUT");
    c.run(ops::fsd("other")).unwrap();
    assert_eq!(c.run(ops::get_var("other", "ups.status")).unwrap(), "FSD OB DISCHRG", "{ctx}");
    c.run(ops::logout()).unwrap();

    // Nobody listening.
    let dead = HostPort::parse(&format!("127.0.0.1:{}", nut_testkit::free_port())).unwrap();
    match A::connect(&dead) {
        Err(ClientError::Transport(TransportError::Connect { .. })) => {}
        other => panic!("{ctx}: {:?}", other.map(|_| ())),
    }
}

#[test]
fn blocking_on_debian_upsd() {
    cases::<Blocking>(Which::Debian);
}

#[test]
fn tokio_on_debian_upsd() {
    cases::<Tokio>(Which::Debian);
}

#[test]
fn blocking_on_our_upsd() {
    cases::<Blocking>(Which::Ours);
}

#[test]
fn tokio_on_our_upsd() {
    cases::<Tokio>(Which::Ours);
}

#[test]
fn typed_methods_and_reconnecting() {
    let srv = start(Which::Debian);
    let at = HostPort::parse(&srv.host()).unwrap();
    let mut c = nut_client::io::blocking::Client::connect(&at, ConnectOptions::default()).unwrap();
    assert_eq!(c.get_var("dummy", "ups.status").unwrap(), "OL");
    assert_eq!(c.list_ups().unwrap().len(), 2);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut t =
            nut_client::io::tokio::Client::connect(&at, ConnectOptions::default()).await.unwrap();
        assert_eq!(t.get_var("dummy", "ups.status").await.unwrap(), "OL");
        assert_eq!(t.list_cmds("dummy").await.unwrap(), ["load.off"]);
    });
    let backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(40));
    let mut r =
        nut_client::io::blocking::Reconnecting::new(at.clone(), ConnectOptions::default(), backoff)
            .with_credentials("admin", "adminpass");
    assert_eq!(r.run(ops::get_var("dummy", "ups.status")).unwrap(), "OL");
    // LOGOUT makes the server close: the next call reconnects.
    r.run(ops::logout()).unwrap();
    assert!(r.run(ops::ver()).is_err());
    assert!(!r.is_connected());
    assert_eq!(r.run(ops::get_var("dummy", "ups.status")).unwrap(), "OL");
    assert!(r.is_connected());
    let mut t = nut_client::io::tokio::Reconnecting::new(at, ConnectOptions::default(), backoff);
    assert_eq!(rt.block_on(t.run(ops::get_var("other", "battery.charge"))).unwrap(), "50");
}
