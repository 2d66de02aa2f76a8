//! Fuzz target bodies for `nut-netxml`: pages through the mge-xml mapping
//! and the session, and the SET form (`netxml`); `WWW-Authenticate`
//! challenges and the answers to them (`http_auth`); the card's HTTP
//! answers (`http_response`).

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

/// `WWW-Authenticate` values: the challenges read stay within their
/// bounds, and the `Authorization` answer to them, which echoes the
/// card's realm, nonce and opaque, never carries a line break (no header
/// injection).
pub fn http_auth(data: &[u8]) {
    use nut_netxml::auth::{Auth, MAX_ITEMS, parse_challenges};
    let text = String::from_utf8_lossy(data);
    let challenges = parse_challenges(&text);
    assert!(challenges.len() <= MAX_ITEMS);
    for c in &challenges {
        assert!(!c.scheme.is_empty());
        assert!(c.params.len() <= MAX_ITEMS);
    }
    if let Some(mut auth) = Auth::choose(&challenges, "ad\"min", "se\\cret") {
        for _ in 0..2 {
            let v = auth.authorization("GET", "/upsprop.xml", "0a4f113b");
            assert!(!v.contains(['\r', '\n']), "line break in {v:?}");
        }
    }
}

/// The card's HTTP answers, pushed in pieces of 1 to 64 bytes (byte 0
/// sets the size), then the end of the connection: no panic, a body
/// within the reader's limit, a three-digit status.
pub fn http_response(data: &[u8]) {
    use nut_netxml::http::{Progress, Response, ResponseReader};
    const LIMIT: usize = 4096;
    let check = |r: Response| {
        assert!(r.body.len() <= LIMIT, "body of {} bytes", r.body.len());
        assert!(r.status <= 999);
    };
    let Some((&first, rest)) = data.split_first() else { return };
    let mut reader = ResponseReader::new(LIMIT);
    for piece in rest.chunks(usize::from(first % 64) + 1) {
        match reader.push(piece) {
            Ok(Progress::More) => {}
            Ok(Progress::Done(r)) => return check(r),
            Err(_) => return,
        }
    }
    if let Ok(r) = reader.finish() {
        check(r);
    }
}
