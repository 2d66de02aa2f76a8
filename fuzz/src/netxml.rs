//! Fuzz target body for `nut-netxml`: pages through the mge-xml mapping
//! and the session, and the SET form.

use nut_netxml::{Mapper, Options, Outcome, Session, apply_page, form_request, table};
use nut_proto::publish::{MAX_VALUE_LEN, Publish, Recorder};
use std::time::Instant;

/// Names published beyond the table's NUT names.
const EXTRA: &[&str] = &[
    "ups.status",
    "ups.alarm",
    "ups.date",
    "ups.time",
    "ups.serial",
    "ups.firmware.aux",
    "device.type",
    "driver.timer.shutdown",
    "driver.delay.shutdown",
    "driver.version.data",
    "input.transfer.reason",
    "input.phases",
    "input.bypass.phases",
    "output.phases",
];

const TOKENS: &[&str] = &[
    "ALARM", "OL", "OB", "DISCHRG", "CHRG", "LB", "OVER", "RB", "TRIM", "BOOST", "BYPASS", "OFF",
    "FSD", "CAL",
];

fn check(r: &Recorder) {
    let vars: Vec<_> = r.tree().vars().collect();
    assert!(vars.len() <= table::ROWS.len() + EXTRA.len(), "{} variables", vars.len());
    for (name, v) in vars {
        assert!(
            EXTRA.contains(&name) || table::ROWS.iter().any(|row| row.nut == Some(name)),
            "{name} is not a NUT name of the mapping"
        );
        assert!(v.value.len() <= MAX_VALUE_LEN, "{name} too long");
    }
    if let Some(s) = r.getinfo("ups.status") {
        for t in s.split(' ') {
            assert!(TOKENS.contains(&t), "status token {t:?}");
        }
    }
}

/// `data[0]`: bit 0 `do_convert_deci`, bits 1..: `shutdown_duration`.
/// The rest: up to four pages separated by NUL bytes. Each page goes
/// through the mapper (a refused page changes nothing, errors name the
/// page); the published names are the table's NUT names and a few fixed
/// ones, values fit 255 bytes, `ups.status` holds only NUT tokens. Then
/// the pages play a session (connection test, product page, an update):
/// it ends with an outcome and never asks for more than the pages it
/// knows. Every value of the pages, written with the SET form, gives a
/// well-formed `SET_OBJECT` document.
pub fn netxml(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let options =
        Options { convert_deci: first & 1 == 1, shutdown_duration: i64::from(first >> 1) };
    let pages: Vec<&[u8]> = rest.split(|&b| b == 0).take(4).collect();

    let mut mapper = Mapper::new(options.clone());
    let mut r = Recorder::new();
    for (i, page) in pages.iter().enumerate() {
        let url = format!("/page{i}");
        let before = r.upsc();
        if let Err(e) = apply_page(&mut mapper, &url, page, &mut r) {
            assert_eq!(r.upsc(), before, "a refused page published something");
            assert!(e.to_string().contains(&url), "{e}");
        }
        check(&r);
    }
    mapper.commit(&mut r);
    check(&r);

    let mut s = Session::new(options);
    let mut out = Recorder::new();
    let now = Instant::now();
    s.connect();
    let mut requests = 0;
    while let Some(req) = s.poll_request() {
        requests += 1;
        assert!(requests <= 4, "connect asks too much");
        let body =
            if req.path == "/" { b"".as_slice() } else { pages.first().copied().unwrap_or(b"") };
        s.handle_response(200, body, now, &mut out);
    }
    let outcome = s.poll_outcome().expect("connect ends with an outcome");
    if outcome == Outcome::Connected {
        s.update();
        let mut n = 0;
        while let Some(req) = s.poll_request() {
            let body = pages.get(1 + n % 3).copied().unwrap_or(b"");
            n += 1;
            assert!(n <= 3, "an update reads at most three pages");
            assert!(req.path.starts_with('/'), "{}", req.path);
            s.handle_response(200, body, now, &mut out);
        }
        assert!(matches!(s.poll_outcome(), Some(Outcome::Updated { .. } | Outcome::Stale { .. })));
        check(&out);
    }

    for page in &pages {
        let value = String::from_utf8_lossy(page);
        let req = form_request(&[("System.Contact", &value)]);
        let body = String::from_utf8(req.body).expect("UTF-8 form");
        let start = body.find("<?xml").expect("xml part");
        let end = body.rfind("--NUT-NETXML-UPS-OBJECTS--").expect("closing boundary");
        let mut m = Mapper::new(Options::default());
        apply_page(&mut m, "/form", &body.as_bytes()[start..end], &mut Recorder::new())
            .expect("the SET form is well-formed XML");
    }
}
