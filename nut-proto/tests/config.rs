//! The configuration syntax, on one example of each NUT configuration file.

use nut_proto::config::{self, ConfigErrorKind};
use nut_proto::token::TokenError;

fn words(d: &config::Directive) -> Vec<&str> {
    d.words.iter().map(String::as_str).collect()
}

#[test]
fn ups_conf() {
    let text = br#"# global settings
maxretry = 3
retrydelay=5
statepath = /var/run/nut

[myups]
    driver = usbhid-ups
    port = auto
    desc = "Rack \"A\" \# 2"
    pollinterval = 2
    nolock

[Seq]
driver = dummy-ups
port = "sequences/power fail.seq"   # a file name with a space
override.battery.charge.low = 30
"#;
    let conf = config::parse("ups.conf", text);
    assert!(conf.errors.is_empty(), "{:?}", conf.errors);
    let globals: Vec<_> = conf.global.iter().map(|d| d.key_value().unwrap()).collect();
    assert_eq!(globals, [("maxretry", "3"), ("retrydelay", "5"), ("statepath", "/var/run/nut")]);
    assert_eq!(conf.sections.len(), 2);
    let ups = &conf.sections[0];
    assert_eq!((ups.name.as_str(), ups.line), ("myups", 6));
    assert_eq!(ups.get("driver"), Some("usbhid-ups"));
    assert_eq!(ups.get("desc"), Some("Rack \"A\" # 2"));
    assert_eq!(ups.directives[4].key(), "nolock");
    assert_eq!(ups.directives[4].line, 11);
    let seq = &conf.sections[1];
    assert_eq!(seq.get("port"), Some("sequences/power fail.seq"));
    assert_eq!(seq.get("override.battery.charge.low"), Some("30"));
    assert_eq!(seq.directives[2].line, 16);
}

#[test]
fn upsd_conf() {
    let text = b"LISTEN 127.0.0.1 3493\nLISTEN ::1\nMAXAGE 15\nCERTFILE /etc/nut/upsd.pem\nDISABLE_WEAK_SSL true\n";
    let conf = config::parse("upsd.conf", text);
    assert!(conf.errors.is_empty());
    let all: Vec<_> = conf.global.iter().map(words).collect();
    assert_eq!(
        all,
        [
            vec!["LISTEN", "127.0.0.1", "3493"],
            vec!["LISTEN", "::1"],
            vec!["MAXAGE", "15"],
            vec!["CERTFILE", "/etc/nut/upsd.pem"],
            vec!["DISABLE_WEAK_SSL", "true"]
        ]
    );
    assert!(conf.sections.is_empty());
}

#[test]
fn upsd_users() {
    let text = br#"[admin]
    password = "pass words\#1"
    actions = SET
    actions = FSD
    instcmds = ALL

[monuser]
    password = secret
    upsmon primary

[other]
    password=x
    upsmon = secondary
"#;
    let conf = config::parse("upsd.users", text);
    assert!(conf.errors.is_empty());
    let admin = &conf.sections[0];
    assert_eq!(admin.get("password"), Some("pass words#1"));
    let actions: Vec<_> =
        admin.directives.iter().filter(|d| d.key() == "actions").flat_map(|d| d.values()).collect();
    assert_eq!(actions, ["SET", "FSD"]);
    assert_eq!(words(&conf.sections[1].directives[1]), ["upsmon", "primary"]);
    assert_eq!(conf.sections[2].directives[1].values(), ["secondary"]);
}

#[test]
fn upsmon_conf() {
    let text = br#"RUN_AS_USER nut
MONITOR myups@localhost 1 monuser "secret pass" primary
MONITOR other@[::1]:3493 0 mon pw secondary
MINSUPPLIES 1
SHUTDOWNCMD "/sbin/shutdown -h +0"
NOTIFYCMD /usr/sbin/upssched
NOTIFYMSG ONBATT "UPS %s on battery"
NOTIFYFLAG ONBATT SYSLOG+WALL+EXEC
POLLFREQ 5
POWERDOWNFLAG /etc/killpower
"#;
    let conf = config::parse("upsmon.conf", text);
    assert!(conf.errors.is_empty());
    assert_eq!(
        words(&conf.global[1]),
        ["MONITOR", "myups@localhost", "1", "monuser", "secret pass", "primary"]
    );
    assert_eq!(words(&conf.global[2])[1], "other@[::1]:3493");
    assert_eq!(words(&conf.global[4]), ["SHUTDOWNCMD", "/sbin/shutdown -h +0"]);
    assert_eq!(words(&conf.global[7]), ["NOTIFYFLAG", "ONBATT", "SYSLOG+WALL+EXEC"]);
    assert_eq!(conf.global[9].line, 10);
}

#[test]
fn upssched_conf() {
    let text = br#"CMDSCRIPT /usr/bin/upssched-cmd
PIPEFN /run/nut/upssched.pipe
LOCKFN /run/nut/upssched.lock
AT ONBATT * START-TIMER onbatt 30
AT ONLINE * CANCEL-TIMER onbatt online
AT COMMBAD myups EXECUTE commbad
"#;
    let conf = config::parse("upssched.conf", text);
    assert!(conf.errors.is_empty());
    assert_eq!(words(&conf.global[3]), ["AT", "ONBATT", "*", "START-TIMER", "onbatt", "30"]);
    assert_eq!(words(&conf.global[5]), ["AT", "COMMBAD", "myups", "EXECUTE", "commbad"]);
}

#[test]
fn hosts_conf() {
    let text =
        b"MONITOR myups@localhost \"Local UPS\"\nMONITOR su2200@10.64.1.1 \"Finance department\"\n";
    let conf = config::parse("hosts.conf", text);
    assert!(conf.errors.is_empty());
    assert_eq!(words(&conf.global[1]), ["MONITOR", "su2200@10.64.1.1", "Finance department"]);
}

#[test]
fn errors_name_file_and_line_and_parsing_goes_on() {
    let text = b"[ups]\ndriver = dummy-ups\ndesc = \"a # box\"\nport = x.dev\n[bad section]\n[ok]\nport = \"unterminated\n";
    let conf = config::parse("ups.conf", text);
    let errs: Vec<String> = conf.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errs,
        [
            "ups.conf:3: unescaped '#' inside quotes at byte 10",
            "ups.conf:5: malformed section header",
            "ups.conf:7: unterminated quoted word",
        ]
    );
    assert_eq!(
        conf.errors[0].kind,
        ConfigErrorKind::Token(TokenError::HashInQuotes { offset: 10 })
    );
    // The lines around the bad ones are kept.
    assert_eq!(conf.sections[0].get("port"), Some("x.dev"));
    assert_eq!(conf.sections[1].name, "ok");
}

#[test]
fn continuations_crlf_and_missing_final_lf() {
    let text = b"LISTEN \\\n127.0.0.1\r\nMAXAGE 20\r\n# trailing comment\nMAXCONN 10";
    let conf = config::parse("upsd.conf", text);
    assert!(conf.errors.is_empty());
    let all: Vec<_> = conf.global.iter().map(|d| (d.line, words(d))).collect();
    assert_eq!(
        all,
        [(1, vec!["LISTEN", "127.0.0.1"]), (3, vec!["MAXAGE", "20"]), (5, vec!["MAXCONN", "10"])]
    );
    // Non-ASCII bytes are dropped, as NUT does.
    let conf = config::parse("ups.conf", "[u]\ndesc = \"Serveur à l'étage\"\n".as_bytes());
    assert_eq!(conf.sections[0].get("desc"), Some("Serveur  l'tage"));
}

#[test]
fn overlong_line_is_an_error() {
    let mut text = b"MAXAGE 5\nX ".to_vec();
    text.extend(std::iter::repeat_n(b'a', config::MAX_CONFIG_LINE));
    text.extend_from_slice(b"\nMAXCONN 3\n");
    let conf = config::parse("upsd.conf", &text);
    assert_eq!(conf.errors.len(), 1);
    assert_eq!(conf.errors[0].line, 2);
    assert_eq!(conf.errors[0].kind, ConfigErrorKind::LineTooLong);
    assert_eq!(conf.global.len(), 2);
    assert_eq!(conf.global[1].line, 3);
}
