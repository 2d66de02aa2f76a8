//! Our `upsd` next to Debian's real `upsd` 2.8.0, each fed by Debian's
//! `dummy-ups` from the same configuration: NUT's own clients (`upsc`,
//! `upsrw`, `upscmd`, PyNUT) must print exactly the same thing, and raw
//! request sequences must get the same bytes back (except the documented
//! differences: the version in VER / server.info).

mod support;

use std::time::Duration;
use support::{Raw, Which, World};

fn both() -> (World, World) {
    (World::start(Which::Ours, ""), World::start(Which::Real, ""))
}

#[test]
fn debian_clients_print_the_same() {
    let (ours, real) = both();
    let cases: &[(&str, &[&str])] = &[
        ("upsc", &["dummy@{h}"]),
        ("upsc", &["other@{h}"]),
        ("upsc", &["dummy@{h}", "ups.status"]),
        ("upsc", &["dummy@{h}", "nonexistent.var"]),
        ("upsc", &["nosuchups@{h}"]),
        ("upsc", &["-l", "{h}"]),
        ("upsc", &["-L", "{h}"]),
        ("upsc", &["-c", "dummy@{h}"]),
        ("upsrw", &["dummy@{h}"]),
        ("upscmd", &["-l", "dummy@{h}"]),
        ("upscmd", &["-l", "nosuchups@{h}"]),
        ("upsrw", &["-s", "ups.id=other", "-u", "admin", "-p", "wrong", "dummy@{h}"]),
        ("upsrw", &["-s", "ups.status=x", "-u", "monprimary", "-p", "primarypass", "dummy@{h}"]),
        (
            "upsrw",
            &["-s", "ups.id=12345678901234567890", "-u", "admin", "-p", "adminpass", "dummy@{h}"],
        ),
        ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "nonexistent.cmd"]),
        ("upscmd", &["-u", "admin", "-p", "wrong", "dummy@{h}", "load.off"]),
        ("upscmd", &["-u", "admin", "-p", "adminpass", "dummy@{h}", "load.off"]),
        ("upsrw", &["-s", "ups.id=newvalue", "-u", "admin", "-p", "adminpass", "dummy@{h}"]),
    ];
    for (tool, args) in cases {
        let a = ours.tool(tool, args);
        let b = real.tool(tool, args);
        assert_eq!(a, b, "{tool} {args:?}: ours (left) vs real upsd (right)");
        assert!(!a.1.is_empty() || !a.2.is_empty(), "{tool} {args:?} printed nothing");
    }
    // The SET reached the driver: both servers show the new value.
    for w in [&ours, &real] {
        let ok =
            nut_testkit::wait_until(Duration::from_secs(10), Duration::from_millis(50), || {
                w.tool("upsc", &["dummy@{h}", "ups.id"]).1 == "newvalue\n"
            });
        assert!(ok, "{:?}: ups.id never became newvalue", w.which);
    }
}

const PYNUT: &str = r#"
import sys, PyNUT
c = PyNUT.PyNUTClient(host=sys.argv[1], port=int(sys.argv[2]), login="admin", password="adminpass")
def show(f):
    try:
        r = f()
        print(sorted(r.items()) if isinstance(r, dict) else r)
    except Exception as e:
        # PyNUT 2.8.0 cannot parse a description holding a quote.
        print("error", type(e).__name__, e)
show(lambda: c.GetUPSList())
show(lambda: c.GetUPSVars("dummy"))
show(lambda: c.GetUPSVars("other"))
show(lambda: c.GetRWVars("dummy"))
show(lambda: c.GetUPSCommands("dummy"))
show(lambda: c.ListClients("dummy"))
show(lambda: c.GetUPSVars("nosuchups"))
show(lambda: c.RunUPSCommand("dummy", "nope"))
show(lambda: c.RunUPSCommand("dummy", "load.off"))
show(lambda: c.FSD("dummy"))
show(lambda: c.GetUPSVars("dummy"))
show(lambda: c.help())
"#;

#[test]
fn pynut_sees_the_same() {
    let (ours, real) = both();
    let a = ours.python(PYNUT);
    let b = real.python(PYNUT);
    assert_eq!(a.0, Some(0), "PyNUT failed against our upsd: {}", a.2);
    assert_eq!(a, b, "PyNUT: ours (left) vs real upsd (right)");
    assert!(a.1.contains("Commands: HELP") && a.1.contains("ERR UNKNOWN-UPS"), "{}", a.1);
}

/// Raw request sequences; each entry is sent in one write.
const RAW: &[&[u8]] = &[
    b"NETVER\n",
    b"PROTVER\n",
    b"HELP\n",
    b"STARTTLS\n",
    b"GET TRACKING\n",
    b"GET TRACKING 2DDC5036-F665-4D29-BE4C-0374D091D263\n",
    b"LIST UPS\n",
    b"list ups\n",
    b"GET UPSDESC dummy\nGET UPSDESC other\nGET UPSDESC nosuchups\n",
    b"LIST VAR dummy\nLIST RW dummy\nLIST CMD dummy\nlist var OTHER\n",
    b"GET VAR DUMMY UPS.STATUS\nGET VAR dummy nonexistent.var\nGET VAR nosuchups ups.status\n",
    b"GET VAR nosuchups server.nope\nGET VAR dummy server.other\n",
    b"GET TYPE dummy ups.id\nGET TYPE dummy driver.name\nGET TYPE dummy nonexistent\n",
    b"GET DESC dummy ups.status\nGET DESC dummy nonexistent.var\nGET CMDDESC dummy load.off\n",
    b"GET CMDDESC dummy nope\nLIST ENUM dummy ups.id\nLIST RANGE dummy ups.id\nLIST ENUM dummy nope\n",
    b"LIST CLIENT dummy\nLIST CLIENT nosuchups\nGET NUMLOGINS dummy\n",
    b"GET\nGET VAR\nGET VAR dummy\nGET FOO dummy ups.status\nLIST\nLIST VAR\nLIST ENUM dummy\n",
    b"LIST FOO dummy\nFOOBAR\nVER extra\nHELP extra\nNETVER extra\n",
    b"\n# only a comment\n   \n",
    b"GET VAR dummy ups.status\r\nget var dummy ups.status#comment\n",
    b"GET VAR dummy ups.st\x01atus\nGET VAR dummy ups.st\xc3\xa9atus\nGET VAR \x01 dummy ups.status\n",
    b"GET VAR dummy ups.status \x01\nGET VAR dummy \"ups.status\"\nGET VAR dummy ups.\"status\"\n",
    b"GET UPSDESC dummy\\\nVER\nGET VAR \"dummy\n ups.status\"\n",
    b"GET VAR dummy \x7fups.status\nGET VAR dummy ups.status\x00\n",
    b"LOGIN dummy\nPRIMARY dummy\nSET VAR dummy ups.id x\nSET TRACKING ON\nINSTCMD dummy load.off\n",
    b"USERNAME monprimary\nLOGIN dummy\nUSERNAME again\n",
    b"PASSWORD wrong\nLOGIN dummy\nPRIMARY dummy\nFSD dummy\nPASSWORD again\n",
    b"USERNAME\nPASSWORD a b\nSET VAR\nSET FOO dummy\nSET TRACKING MAYBE\nSET TRACKING\nFSD\n",
    b"SET VAR dummy ups.id 12345678901234567\nSET VAR nosuchups ups.id 1\nINSTCMD dummy\n",
    b"SET TRACKING ON\nGET TRACKING\nGET TRACKING 00000000-0000-4000-8000-000000000000\n",
    b"SET TRACKING off\nGET TRACKING\n",
];

#[test]
fn raw_requests_get_the_same_bytes() {
    let (ours, real) = both();
    // Requests on a fresh pair of connections, one to each server, must
    // get the same bytes; returns our side's connection.
    let same = |requests: &[&[u8]]| -> Raw {
        let mut a = Raw::connect(ours.port);
        let mut b = Raw::connect(real.port);
        for req in requests {
            let x = a.exchange(req);
            let y = b.exchange(req);
            assert_eq!(
                String::from_utf8_lossy(&x),
                String::from_utf8_lossy(&y),
                "request {:?}",
                String::from_utf8_lossy(req)
            );
        }
        a
    };
    same(RAW);
    // An admin session on a second connection each.
    let mut a = same(&[
        &b"USERNAME admin\nPASSWORD adminpass\n"[..],
        b"SET VAR dummy nonexistent x\nSET VAR dummy driver.name x\nINSTCMD dummy nope\n",
        b"INSTCMD nosuchups load.off\n",
        b"FSD dummy\nGET VAR dummy ups.status\nLIST RW dummy\n",
        b"LOGIN dummy\nLOGIN other\nGET NUMLOGINS dummy\nLIST CLIENT dummy\n",
        b"PRIMARY dummy\nMASTER dummy\n",
    ]);
    // VER and server.info differ only in the version.
    let v = a.exchange(b"VER\nGET VAR x server.info\nGET VAR x server.version\n");
    let v = String::from_utf8(v).unwrap();
    let version = nut_server::upsd::SERVER_VERSION;
    assert_eq!(
        v,
        format!(
            "Network UPS Tools upsd {version} - http://www.networkupstools.org/\n\
             VAR x server.info \"Network UPS Tools upsd {version} - http://www.networkupstools.org/\"\n\
             VAR x server.version \"{version}\"\n"
        )
    );
}
