//! `netxml-ups` against a local HTTP server that serves the pages of
//! `tests/data/xml/` as an Eaton/MGE card would: variables, status,
//! alarms, SET, and cards that are slow, close early, send malformed or
//! huge documents, ask for a password or cannot be reached, and a card
//! on https (trusted, untrusted, wrong name). Then ours
//! and Debian's NUT 2.8.0 `netxml-ups` (package `nut-xml`), each under
//! Debian's `upsd`, against the same pages: `upsc`, `upscmd -l`, `upsrw`
//! and the SET form they post must be the same.
#![cfg(feature = "netxml")]

mod common;

use common::Setup;
use nut_client::tls::TlsOptions;
use nut_driver::{Device, DeviceError, Dstate, TrackingResult, UpdateKind};
use nut_drivers::netxml::{NetxmlUps, Settings};
use nut_netxml::Options;
use nut_testkit::{peer, test_pki, wait_until};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const OURS: &str = env!("CARGO_BIN_EXE_netxml-ups");

fn data(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xml").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// What the server answers on one path.
#[derive(Clone)]
enum Reply {
    /// A status and a body.
    Page(u16, Vec<u8>),
    /// A 200 after a delay.
    Slow(Duration, Vec<u8>),
    /// A header announcing 5000 bytes, 100 bytes, then the connection
    /// closes.
    CloseEarly,
    /// A well-formed document of about this many bytes, with a
    /// Content-Length (or without one, ended by closing, when false).
    Huge(usize, bool),
    /// 401 with a Basic challenge unless the request carries this
    /// Authorization value.
    Auth(String, Vec<u8>),
    /// 401 with a Digest challenge (MD5, `qop=auth`) unless the request
    /// carries a right answer for this user and password.
    Digest(&'static str, &'static str, Vec<u8>),
    /// A 200 in chunked transfer encoding, in pieces of this size, and
    /// the connection left open afterwards (until the client closes it).
    Chunked(usize, Vec<u8>),
}

/// A request the server received.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The card: an HTTP server on 127.0.0.1 (https with the test PKI's
/// `server.pem`), one thread per connection, stopped (and its threads
/// joined) when dropped.
struct Card {
    port: u16,
    https: bool,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// A connection to the card: plain TCP or TLS over it.
trait Io: Read + Write {}
impl<T: Read + Write> Io for T {}

fn read_request(s: &mut dyn Io) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let path = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buf[end + 4..].to_vec();
    while body.len() < len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen { method, path, headers, body })
}

fn respond(s: &mut dyn Io, status: u16, extra: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n{extra}Connection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
}

fn huge_document(size: usize) -> Vec<u8> {
    let mut d = b"<SUMMARY>".to_vec();
    let obj = b"<OBJECT name=\"UPS.PowerSummary.RemainingCapacity\">1</OBJECT>\n";
    while d.len() < size {
        d.extend_from_slice(obj);
    }
    d.extend_from_slice(b"</SUMMARY>");
    d
}

/// The TLS configuration of an https card: the test PKI's `server.pem`.
fn tls_server_config() -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(test_pki("server.pem"))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let key = PrivateKeyDer::from_pem_file(test_pki("upsd-certfile.pem")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    Arc::new(config)
}

fn serve(
    tcp: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    routes: &Mutex<HashMap<String, Reply>>,
    seen: &Mutex<Vec<Seen>>,
    stop: &AtomicBool,
) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
    let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
    let mut s: Box<dyn Io> = match tls {
        None => Box::new(tcp),
        Some(config) => {
            let Ok(conn) = rustls::ServerConnection::new(config) else { return };
            Box::new(rustls::StreamOwned::new(conn, tcp))
        }
    };
    let s = &mut *s;
    let Some(req) = read_request(s) else { return };
    let reply = routes.lock().unwrap().get(&req.path).cloned();
    let auth = req.header("Authorization").map(str::to_string);
    let digest_ok = |user: &str, password: &str| {
        auth.as_deref().is_some_and(|a| digest_valid(a, &req.method, &req.path, user, password))
    };
    let digest = match &reply {
        Some(Reply::Digest(user, password, _)) => digest_ok(user, password),
        _ => false,
    };
    seen.lock().unwrap().push(req);
    match reply {
        None => respond(s, 404, "", b"Not Found"),
        Some(Reply::Page(status, body)) => respond(s, status, "", &body),
        Some(Reply::Slow(delay, body)) => {
            let until = Instant::now() + delay;
            // a card that takes its time (the wait ends early when the
            // server stops)
            while Instant::now() < until && !stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(20));
            }
            respond(s, 200, "", &body);
        }
        Some(Reply::CloseEarly) => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n<SUMMARY>");
            let _ = s.write_all(&[b' '; 91]);
        }
        Some(Reply::Huge(size, with_length)) => {
            let d = huge_document(size);
            if with_length {
                respond(s, 200, "", &d);
            } else {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
                for c in d.chunks(64 * 1024) {
                    if s.write_all(c).is_err() {
                        break;
                    }
                }
            }
        }
        Some(Reply::Chunked(size, body)) => {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
            for c in body.chunks(size.max(1)) {
                let _ = s.write_all(format!("{:x};ext=1\r\n", c.len()).as_bytes());
                let _ = s.write_all(c);
                let _ = s.write_all(b"\r\n");
            }
            let _ = s.write_all(b"0\r\n\r\n");
            let _ = s.flush();
            // keep the connection: the client must see the end itself
            let mut rest = [0u8; 16];
            let _ = s.read(&mut rest);
        }
        Some(Reply::Digest(_, _, body)) => {
            if digest {
                respond(s, 200, "", &body);
            } else {
                let challenge = format!(
                    "WWW-Authenticate: Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", \
                     nonce=\"{DIGEST_NONCE}\", opaque=\"op\", algorithm=MD5\r\n"
                );
                respond(s, 401, &challenge, UNAUTHORIZED_PAGE);
            }
        }
        Some(Reply::Auth(want, body)) => {
            if auth.as_deref() == Some(want.as_str()) {
                respond(s, 200, "", &body);
            } else {
                respond(s, 401, "WWW-Authenticate: Basic realm=\"card\"\r\n", b"denied");
            }
        }
    }
}

/// The body of a 401: a well-formed page, as NUT 2.8.0 needs to answer
/// the challenge (it parses the body as XML before it retries).
const UNAUTHORIZED_PAGE: &[u8] = b"<html><body>401 Unauthorized</body></html>";
const DIGEST_REALM: &str = "card";
const DIGEST_NONCE: &str = "5ccc069c403ebaf9f0171e9517f40e41";

/// Whether `authorization` is a right Digest answer (RFC 7616, MD5,
/// `qop=auth`) to the card's challenge for this request.
fn digest_valid(authorization: &str, method: &str, path: &str, user: &str, pass: &str) -> bool {
    use md5::{Digest as _, Md5};
    let h = |s: String| format!("{:x}", Md5::digest(s.as_bytes()));
    let Some(params) = authorization.strip_prefix("Digest ") else { return false };
    let mut p = HashMap::new();
    for item in params.split(", ") {
        let Some((k, v)) = item.split_once('=') else { return false };
        p.insert(k.to_string(), v.trim_matches('"').to_string());
    }
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let ha1 = h(format!("{user}:{DIGEST_REALM}:{pass}"));
    let ha2 = h(format!("{method}:{path}"));
    let want = h(format!("{ha1}:{DIGEST_NONCE}:{}:{}:auth:{ha2}", get("nc"), get("cnonce")));
    get("username") == user
        && get("realm") == DIGEST_REALM
        && get("nonce") == DIGEST_NONCE
        && get("uri") == path
        && get("qop") == "auth"
        && get("opaque") == "op"
        && get("response") == want
}

impl Card {
    fn new(routes: HashMap<String, Reply>) -> Card {
        Card::start(routes, None)
    }

    /// A card on https, with the test PKI's `server.pem` (`localhost`,
    /// `127.0.0.1`, `::1`, from `ca.pem`).
    fn new_https(routes: HashMap<String, Reply>) -> Card {
        Card::start(routes, Some(tls_server_config()))
    }

    fn start(routes: HashMap<String, Reply>, tls: Option<Arc<rustls::ServerConfig>>) -> Card {
        let https = tls.is_some();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes = Arc::new(Mutex::new(routes));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s, st) = (routes.clone(), seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut workers = Vec::new();
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (r, s, st, tls) = (r.clone(), s.clone(), st.clone(), tls.clone());
                workers.push(std::thread::spawn(move || serve(conn, tls, &r, &s, &st)));
            }
            for w in workers {
                let _ = w.join();
            }
        });
        Card { port, https, routes, seen, stop, thread: Some(thread) }
    }

    /// The pages of the Eaton 5PX fixture (product page at
    /// `/product.xml`, so `/mgeups/product.xml` is a 404 first).
    fn eaton() -> Card {
        Card::new(pages("upsprop.xml", "getvalue.xml"))
    }

    fn set(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn url(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for Card {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pages(summary: &str, getvalue: &str) -> HashMap<String, Reply> {
    let mut m = HashMap::new();
    m.insert("/".into(), Reply::Page(200, b"<html><body>card</body></html>".to_vec()));
    m.insert("/product.xml".into(), Reply::Page(200, data("product.xml")));
    m.insert("/upsprop.xml".into(), Reply::Page(200, data(summary)));
    m.insert("/getvalue.cgi".into(), Reply::Page(200, data(getvalue)));
    m
}

fn settings(card: &Card) -> Settings {
    Settings {
        host: "127.0.0.1".into(),
        tcp_port: card.port,
        tls: None,
        timeout: Duration::from_secs(1),
        credentials: (String::new(), String::new()),
        options: Options::default(),
        shutdown_timer: 0,
        subscribe: false,
    }
}

fn connected(card: &Card) -> (NetxmlUps, Dstate) {
    let mut dev = NetxmlUps::new(settings(card), false);
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).expect("connect");
    (dev, st)
}

fn get(st: &Dstate, var: &str) -> Option<String> {
    st.getinfo(var).map(str::to_string)
}

/// The product page fallback, the pages of a poll, and every variable
/// NUT published for the Eaton 5PX whose object the 2.8.0 table maps.
#[test]
fn variables_match_the_eaton_5px_output() {
    let card = Card::eaton();
    let (mut dev, mut st) = connected(&card);
    assert_eq!(get(&st, "driver.version.data").as_deref(), Some("MGEXML/0.36"));
    assert_eq!(get(&st, "device.contact").as_deref(), Some(""), "RW variables are published empty");
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    let paths: Vec<String> =
        card.seen().iter().map(|s| format!("{} {}", s.method, s.path)).collect();
    assert_eq!(
        paths,
        [
            "GET /",
            "GET /mgeups/product.xml",
            "GET /product.xml",
            "GET /getvalue.cgi",
            "GET /upsprop.xml",
            "GET /product.xml"
        ]
    );
    assert!(card.seen().iter().all(|s| s.header("User-Agent") == Some("MGEXML/0.36")));
    let expected = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/testdata/xml/expected/Eaton__5PX__netxml-ups__2.7.4__03.dev"),
    )
    .expect("shared/testdata/xml beside the repository");
    let mut checked = 0;
    for line in expected.lines() {
        let Some((var, value)) = line.split_once(": ") else { continue };
        // driver.* and device.* come from the driver core; battery.voltage
        // has no object in the 2.8.0 table
        if var.starts_with("driver.")
            || var.starts_with("device.") && !["device.contact", "device.location"].contains(&var)
            || var == "battery.voltage"
        {
            continue;
        }
        assert_eq!(get(&st, var).as_deref(), Some(value), "{var}");
        checked += 1;
    }
    assert!(checked >= 75, "{checked}");
    assert_eq!(get(&st, "input.phases").as_deref(), Some("1"));
    assert_eq!(get(&st, "output.phases").as_deref(), Some("1"));
    assert_eq!(get(&st, "input.transfer.reason"), None);
    assert_eq!(get(&st, "ups.alarm"), None);
}

/// Every status and alarm bit, then back to normal: bits are cleared and
/// `ups.alarm` and `input.transfer.reason` removed.
#[test]
fn status_alarms_and_recovery() {
    let card = Card::new(pages("upsprop-alarms.xml", "getvalue-alarms.xml"));
    let (mut dev, mut st) = connected(&card);
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert_eq!(
        get(&st, "ups.status").as_deref(),
        Some("ALARM OB DISCHRG LB OVER RB BOOST BYPASS FSD CAL")
    );
    assert_eq!(
        get(&st, "ups.alarm").as_deref(),
        Some(
            "Replace battery! Shutdown imminent! Fan failure! Battery charger fail! Manual bypass mode!"
        )
    );
    assert_eq!(get(&st, "input.transfer.reason").as_deref(), Some("input voltage out of range"));
    assert_eq!(get(&st, "input.phases").as_deref(), Some("3"));
    assert_eq!(get(&st, "output.phases").as_deref(), Some("1"));
    assert_eq!(get(&st, "ups.test.result").as_deref(), Some("in progress"));
    assert_eq!(get(&st, "ups.beeper.status").as_deref(), Some("muted"));
    assert_eq!(get(&st, "output.powerfactor").as_deref(), Some("0.95"));
    assert_eq!(get(&st, "ambient.contacts.1.status").as_deref(), Some("closed"));
    assert_eq!(get(&st, "ups.date").as_deref(), Some("2026/12/05"));
    assert_eq!(get(&st, "ups.time").as_deref(), Some("10:00:00"));
    assert_eq!(get(&st, "ups.timer.shutdown").as_deref(), Some("60"));
    assert_eq!(get(&st, "device.location").as_deref(), Some("Salle \u{e9}lectrique"));
    card.set("/upsprop.xml", Reply::Page(200, data("upsprop.xml")));
    card.set("/getvalue.cgi", Reply::Page(200, data("getvalue.xml")));
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert_eq!(get(&st, "ups.status").as_deref(), Some("OL CHRG"));
    assert_eq!(get(&st, "input.transfer.reason"), None);
    assert_eq!(get(&st, "ups.alarm"), None);
    // estimated once per run, as NUT's
    assert_eq!(get(&st, "input.phases").as_deref(), Some("3"));
}

/// SET posts NUT's form; unknown variables and instant commands (NUT's
/// driver has none) are refused without a request; `-k` posts the
/// low-runtime setting.
#[test]
fn set_commands_and_shutdown() {
    let card = Card::eaton();
    card.set("/Forms/set_obj_2", Reply::Page(200, b"OK".to_vec()));
    let (mut dev, mut st) = connected(&card);
    let now = Instant::now();
    assert_eq!(dev.setvar(&mut st, "battery.runtime.low", "300", now), TrackingResult::Handled);
    assert_eq!(dev.setvar(&mut st, "no.such.var", "1", now), TrackingResult::Unknown);
    assert_eq!(dev.instcmd(&mut st, "test.battery.start", None, now), TrackingResult::Unknown);
    dev.shutdown(&mut st, now).expect("shutdown");
    let posts: Vec<Seen> = card.seen().into_iter().filter(|s| s.method == "POST").collect();
    assert_eq!(posts.len(), 2);
    let form = |name: &str, value: &str| {
        format!(
            "--NUT-NETXML-UPS-OBJECTS\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"Configuration.xml\"\r\nContent-Type: application/octet-stream\r\n\r\n\
             <?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SET_OBJECT>\r\n  <OBJECT name=\"{name}\">{value}</OBJECT>\r\n\
             </SET_OBJECT>\r\n--NUT-NETXML-UPS-OBJECTS--\r\n"
        )
    };
    for (p, value) in posts.iter().zip(["300", "999999999"]) {
        assert_eq!(p.path, "/Forms/set_obj_2");
        assert_eq!(
            p.header("Content-Type"),
            Some("multipart/form-data; boundary=NUT-NETXML-UPS-OBJECTS")
        );
        assert_eq!(String::from_utf8_lossy(&p.body), form("System.RunTimeToEmptyLimit", value));
    }
    card.set("/Forms/set_obj_2", Reply::Page(500, b"no".to_vec()));
    assert_eq!(dev.setvar(&mut st, "device.contact", "x", now), TrackingResult::Failed);
}

/// A card slower than `timeout`: each page fails after about the
/// timeout, the driver reports a lost card (it reconnects, never exits);
/// one slow page of three is tolerated; once fast again it reconnects.
#[test]
fn slow_card() {
    let card = Card::eaton();
    let (mut dev, mut st) = connected(&card);
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    card.set("/upsprop.xml", Reply::Slow(Duration::from_secs(3), data("upsprop.xml")));
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("one slow page is tolerated");
    card.set("/getvalue.cgi", Reply::Slow(Duration::from_secs(3), data("getvalue.xml")));
    card.set("/product.xml", Reply::Slow(Duration::from_secs(3), data("product.xml")));
    let t = Instant::now();
    let err = dev.update(&mut st, UpdateKind::Full, Instant::now()).expect_err("stale");
    assert!(err.is_disconnected(), "{err}");
    assert!(err.to_string().contains("/upsprop.xml"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    let err = dev.connect(&mut st, Instant::now()).expect_err("still slow");
    assert!(err.is_disconnected() && !err.is_fatal(), "{err}");
    for (p, d) in [
        ("/upsprop.xml", "upsprop.xml"),
        ("/getvalue.cgi", "getvalue.xml"),
        ("/product.xml", "product.xml"),
    ] {
        card.set(p, Reply::Page(200, data(d)));
    }
    dev.connect(&mut st, Instant::now()).expect("reconnect");
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
}

/// A page cut short and a malformed page: a malformed page changes
/// nothing; two failed pages make the data stale (not a lost card).
#[test]
fn closed_early_and_malformed() {
    let card = Card::eaton();
    let (mut dev, mut st) = connected(&card);
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert_eq!(get(&st, "battery.charge").as_deref(), Some("100"));
    card.set(
        "/upsprop.xml",
        Reply::Page(
            200,
            b"<SUMMARY><OBJECT name=\"UPS.PowerSummary.RemainingCapacity\">50</OBJECT><OBJECT></SUMMARY>"
                .to_vec(),
        ),
    );
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("one bad page is tolerated");
    assert_eq!(get(&st, "battery.charge").as_deref(), Some("100"));
    card.set("/getvalue.cgi", Reply::CloseEarly);
    let err = dev.update(&mut st, UpdateKind::Full, Instant::now()).expect_err("stale");
    assert!(matches!(err, DeviceError::Stale(_)), "{err}");
    let text = err.to_string();
    assert!(text.contains("/upsprop.xml: malformed XML") && text.contains("<OBJECT>"), "{text}");
    assert!(text.contains("/getvalue.cgi: connection closed after"), "{text}");
}

/// Documents over the 1 MiB cap, announced or not, are refused without
/// being read whole.
#[test]
fn huge_documents() {
    let card = Card::eaton();
    let (mut dev, mut st) = connected(&card);
    card.set("/upsprop.xml", Reply::Huge(3 << 20, true));
    card.set("/getvalue.cgi", Reply::Huge(64 << 20, false));
    let err = dev.update(&mut st, UpdateKind::Full, Instant::now()).expect_err("stale");
    let text = err.to_string();
    assert!(matches!(err, DeviceError::Stale(_)), "{text}");
    assert!(text.contains("/upsprop.xml: document of"), "{text}");
    assert!(text.contains("/getvalue.cgi: document of"), "{text}");
    // the 64 MiB stream was cut near the cap, not read whole
    let limit = nut_netxml::MAX_DOCUMENT_BYTES;
    let size: usize = text
        .split("/getvalue.cgi: document of ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(size > limit && size < 2 * limit, "{size}");
}

/// No card at all: a lost card, never a fatal error. XML v4: fatal, as
/// NUT.
#[test]
fn unreachable_card_and_xml_v4() {
    // Nothing listens there (nut_testkit::free_port checks without listening).
    let port = nut_testkit::free_port();
    let mut s = Settings { tcp_port: port, ..settings(&Card::eaton()) };
    s.timeout = Duration::from_secs(1);
    let mut dev = NetxmlUps::new(s, false);
    let err = dev.connect(&mut Dstate::new(), Instant::now()).expect_err("nothing listens");
    assert!(err.is_disconnected(), "{err}");
    assert!(err.to_string().contains("/:"), "{err}");

    let card = Card::eaton();
    card.set(
        "/product.xml",
        Reply::Page(200, br#"<PRODUCT_INFO name="PDU Network Management Card" type="SCOB" version="02.00.0036" protocol="XML.V4"/>"#.to_vec()),
    );
    let mut dev = NetxmlUps::new(settings(&card), false);
    let err = dev.connect(&mut Dstate::new(), Instant::now()).expect_err("v4");
    assert!(err.is_fatal() && err.to_string().contains("XML v4"), "{err}");
}

/// Chunked answers on a connection the card keeps open: read to their
/// last chunk, not to a timeout.
#[test]
fn chunked_pages() {
    let card = Card::eaton();
    card.set("/getvalue.cgi", Reply::Chunked(100, data("getvalue.xml")));
    card.set("/upsprop.xml", Reply::Chunked(7, data("upsprop.xml")));
    let (mut dev, mut st) = connected(&card);
    let t = Instant::now();
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert!(t.elapsed() < Duration::from_millis(900), "{:?}", t.elapsed());
    assert_eq!(get(&st, "battery.capacity").as_deref(), Some("9.00"));
    assert_eq!(get(&st, "ups.model").as_deref(), Some("Eaton 5PX"));
}

/// Settings NUT refuses, refused by both drivers with NUT's message.
#[test]
fn bad_settings_refused_like_debian() {
    for (extra, message) in [
        ("  timeout = 0\n", "timeout must be greater than 0"),
        ("  shutdown_duration = -1\n", "shutdown duration must be greater than or equal to 0"),
        ("  shutdown_timer = -5\n", "shutdown timer must be greater than or equal to 0"),
    ] {
        let conf = format!("[ups]\n  driver = netxml-ups\n  port = http://127.0.0.1:9\n{extra}");
        let setup = Setup::new(&conf);
        for exe in [PathBuf::from(OURS), debian_driver()] {
            let mut cmd = Command::new(&exe);
            cmd.args(["-a", "ups", "-F", "-u", "root"]);
            setup.env(&mut cmd);
            let out = cmd.output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "{} accepted {extra}", exe.display());
            assert!(err.contains(message), "{}: {err}", exe.display());
        }
    }
}

/// HTTP Basic authentication with `login`/`password` after a 401.
#[test]
fn basic_authentication() {
    let card = Card::eaton();
    let want = "Basic YWRtaW46c2VjcmV0".to_string(); // admin:secret
    for (path, file) in [
        ("/product.xml", "product.xml"),
        ("/upsprop.xml", "upsprop.xml"),
        ("/getvalue.cgi", "getvalue.xml"),
    ] {
        card.set(path, Reply::Auth(want.clone(), data(file)));
    }
    let mut dev = NetxmlUps::new(settings(&card), false);
    let err = dev.connect(&mut Dstate::new(), Instant::now()).expect_err("no password");
    assert!(err.to_string().contains("HTTP status 401"), "{err}");
    let s = Settings { credentials: ("admin".into(), "secret".into()), ..settings(&card) };
    let mut dev = NetxmlUps::new(s, false);
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).expect("connect");
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert_eq!(get(&st, "battery.charge").as_deref(), Some("100"));
}

/// A card on https. With the test CA trusted, the pages are read over
/// TLS, by address and by name (the certificate carries both), and the
/// Host header names the port. A CA that did not sign the card's
/// certificate, a name the certificate does not carry, or a card that
/// speaks plain HTTP, is refused with the reason and no request served.
#[test]
fn https_card() {
    let card = Card::new_https(pages("upsprop.xml", "getvalue.xml"));
    let trusted = TlsOptions::require().ca_path(test_pki("ca.pem"));
    for host in ["127.0.0.1", "localhost"] {
        let s = Settings { host: host.into(), tls: Some(trusted.clone()), ..settings(&card) };
        let mut dev = NetxmlUps::new(s, false);
        let mut st = Dstate::new();
        dev.connect(&mut st, Instant::now()).expect("connect over https");
        dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
        assert_eq!(get(&st, "battery.charge").as_deref(), Some("100"), "{host}");
        let last = card.seen().pop().expect("requests served");
        assert_eq!(last.header("Host"), Some(format!("{host}:{}", card.port).as_str()));
    }
    let served = card.seen().len();
    let refused = |tls: TlsOptions, card: &Card| {
        let s = Settings { tls: Some(tls), ..settings(card) };
        let mut dev = NetxmlUps::new(s, false);
        dev.connect(&mut Dstate::new(), Instant::now()).expect_err("refused").to_string()
    };
    let err = refused(TlsOptions::require().ca_path(test_pki("other-ca.pem")), &card);
    assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{err}");
    let err = refused(trusted.clone().server_name("card.example"), &card);
    assert!(err.contains("certificate not valid for name \"card.example\""), "{err}");
    assert_eq!(card.seen().len(), served, "a request was sent to an unverified card");

    let plain = Card::eaton();
    let err = refused(trusted, &plain);
    assert!(err.contains("send failed") || err.contains("read failed"), "{err}");
    assert!(plain.seen().is_empty());
}

/// The `netxml-ups` program on an `https://` port trusts the system's
/// CAs (here `SSL_CERT_FILE`, which replaces them) and serves the card
/// under Debian's `upsd`. (Debian's driver cannot be shown the test CA:
/// its neon takes GnuTLS's system trust, which has no such variable.)
#[test]
fn https_port_under_upsd() {
    let card = Card::new_https(pages("upsprop.xml", "getvalue.xml"));
    let url = format!("https://localhost:{}", card.port);
    let mut setup =
        Setup::new(&format!("[ours]\n  driver = netxml-ups\n  port = {url}\n  pollinterval = 1\n"));
    setup.extra_env.push(("SSL_CERT_FILE".into(), test_pki("ca.pem")));
    start_driver(&mut setup, Path::new(OURS), "ours");
    setup.upsd();
    let v = setup.upsc_ready("ours");
    assert!(v.contains("battery.charge: 100"), "{v}");
    assert!(v.contains(&format!("driver.parameter.port: {url}")), "{v}");
}

/// HTTP Digest authentication (MD5, `qop=auth`) with `login`/`password`:
/// refused without them; with them, one challenge, then every request
/// answers it at once with a fresh count.
#[test]
fn digest_authentication() {
    let card = Card::eaton();
    for (path, file) in [
        ("/product.xml", "product.xml"),
        ("/upsprop.xml", "upsprop.xml"),
        ("/getvalue.cgi", "getvalue.xml"),
    ] {
        card.set(path, Reply::Digest("admin", "secret", data(file)));
    }
    let mut dev = NetxmlUps::new(settings(&card), false);
    let err = dev.connect(&mut Dstate::new(), Instant::now()).expect_err("no password");
    assert!(err.to_string().contains("HTTP status 401"), "{err}");
    let wrong = Settings { credentials: ("admin".into(), "guess".into()), ..settings(&card) };
    let err = NetxmlUps::new(wrong, false).connect(&mut Dstate::new(), Instant::now());
    assert!(err.expect_err("wrong password").to_string().contains("HTTP status 401"));

    let before = card.seen().len();
    let s = Settings { credentials: ("admin".into(), "secret".into()), ..settings(&card) };
    let mut dev = NetxmlUps::new(s, false);
    let mut st = Dstate::new();
    dev.connect(&mut st, Instant::now()).expect("connect");
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    dev.update(&mut st, UpdateKind::Full, Instant::now()).expect("update");
    assert_eq!(get(&st, "battery.charge").as_deref(), Some("100"));
    let seen: Vec<Seen> = card.seen().split_off(before);
    let protected: Vec<&Seen> = seen
        .iter()
        .filter(|s| ["/product.xml", "/upsprop.xml", "/getvalue.cgi"].contains(&s.path.as_str()))
        .collect();
    let unanswered = protected.iter().filter(|s| s.header("Authorization").is_none()).count();
    assert_eq!(unanswered, 1, "one challenge only: {protected:?}");
    let counts: Vec<&str> = protected
        .iter()
        .filter_map(|s| s.header("Authorization"))
        .filter_map(|a| a.split(", ").find_map(|i| i.strip_prefix("nc=")))
        .collect();
    let want: Vec<String> = (1..=counts.len()).map(|n| format!("{n:08x}")).collect();
    assert_eq!(counts, want);
}

// --- against Debian's netxml-ups -------------------------------------

fn start_driver(setup: &mut Setup, exe: &Path, ups: &str) {
    if let Err(log) = setup.try_driver(exe, "netxml-ups", ups) {
        panic!("{ups} did not start:\n{log}");
    }
}

/// What a client sees of one UPS: variables (but the port), commands,
/// writable variables.
fn view(setup: &Setup, ups: &str) -> String {
    setup.view(ups, &["driver.parameter.port:", "driver.parameter.synchronous:"])
}

fn diff(a: &str, b: &str) -> String {
    let la: Vec<&str> = a.lines().collect();
    let lb: Vec<&str> = b.lines().collect();
    let mut d = String::new();
    for l in &la {
        if !lb.contains(l) {
            d.push_str(&format!("ours only: {l}\n"));
        }
    }
    for l in &lb {
        if !la.contains(l) {
            d.push_str(&format!("NUT only:  {l}\n"));
        }
    }
    d
}

/// Waits until both views agree (a poll of one driver may be later than
/// the other's), and fails with the difference.
fn same_view(setup: &Setup, what: &str, check: impl Fn(&str) -> bool) -> String {
    same_view_but(setup, what, &[], check)
}

/// [`same_view`] without the lines that start with one of `skip` (known
/// differences, checked by the caller).
fn same_view_but(setup: &Setup, what: &str, skip: &[&str], check: impl Fn(&str) -> bool) -> String {
    let cut = |v: String| -> String {
        v.lines()
            .filter(|l| !skip.iter().any(|p| l.starts_with(p)))
            .map(|l| l.to_string() + "\n")
            .collect()
    };
    let (mut a, mut b) = (String::new(), String::new());
    let ok = wait_until(Duration::from_secs(30), Duration::from_millis(300), || {
        a = view(setup, "ours");
        b = view(setup, "nut");
        cut(a.clone()) == cut(b.clone()) && check(&a)
    });
    assert!(ok, "{what}: ours and NUT's differ:\n{}\nours:\n{a}", diff(&a, &b));
    a
}

fn debian_driver() -> PathBuf {
    let p = PathBuf::from("/lib/nut/netxml-ups");
    assert!(
        p.is_file(),
        "Debian's netxml-ups is missing: install the Debian package nut-xml (scripts/test.sh does)"
    );
    p
}

/// Ours and Debian's `netxml-ups`, each under Debian's `upsd` with the
/// same extra settings, each with a card of its own serving `routes`.
struct Pair {
    setup: Setup,
    ours: Card,
    nut: Card,
}

impl Pair {
    fn new(extra: &str, routes: HashMap<String, Reply>) -> Pair {
        let nut_exe = debian_driver();
        let ours = Card::new(routes.clone());
        let nut = Card::new(routes);
        let conf = format!(
            "[ours]\n  driver = netxml-ups\n  port = {}\n  pollinterval = 1\n{extra}\
             [nut]\n  driver = netxml-ups\n  port = {}\n  pollinterval = 1\n{extra}",
            ours.url(),
            nut.url()
        );
        let mut setup = Setup::new(&conf);
        start_driver(&mut setup, Path::new(OURS), "ours");
        start_driver(&mut setup, &nut_exe, "nut");
        setup.upsd();
        Pair { setup, ours, nut }
    }

    fn set(&self, path: &str, reply: Reply) {
        self.ours.set(path, reply.clone());
        self.nut.set(path, reply);
    }
}

/// Ours and Debian's `netxml-ups`, each under Debian's `upsd`, each with a
/// card of its own serving the same pages: the same variables and
/// values, commands and writable variables, with the normal and the alarm
/// pages; `upsrw -s` makes both post the same form.
#[test]
fn matches_debian_netxml_ups() {
    let mut routes = pages("upsprop.xml", "getvalue.xml");
    routes.insert("/Forms/set_obj_2".into(), Reply::Page(200, b"OK".to_vec()));
    let pair = Pair::new("", routes);
    let setup = &pair.setup;
    let normal = same_view(setup, "normal pages", |v| v.contains("ups.status: OL CHRG"));
    assert!(normal.contains("battery.charge: 100"), "{normal}");
    assert!(normal.contains("driver.version.data: MGEXML/0.36"), "{normal}");

    pair.set("/upsprop.xml", Reply::Page(200, data("upsprop-alarms.xml")));
    pair.set("/getvalue.cgi", Reply::Page(200, data("getvalue-alarms.xml")));
    let alarms = same_view(setup, "alarm pages", |v| v.contains("FSD"));
    // the phase count is estimated once per run (from the normal pages)
    assert!(alarms.contains("input.phases: 1"), "{alarms}");
    assert!(alarms.contains("ups.alarm: Replace battery!"), "{alarms}");
    // an ISO-8859-1 page (upsd passes only ASCII: both show the same)
    assert!(alarms.contains("device.location: Salle "), "{alarms}");

    for ups in ["ours", "nut"] {
        let out = Command::new(peer("upsrw"))
            .args([
                "-s",
                "battery.runtime.low=300",
                "-u",
                "admin",
                "-p",
                "secret",
                &setup.target(ups),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "upsrw -s {ups}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let posted = |c: &Card| {
        let mut body = None;
        wait_until(Duration::from_secs(20), Duration::from_millis(100), || {
            body = c.seen().into_iter().find(|s| s.method == "POST");
            body.is_some()
        });
        body.map(|s| (s.path.clone(), s.header("Content-Type").map(str::to_string), s.body))
    };
    let a = posted(&pair.ours).expect("ours posted the SET");
    let b = posted(&pair.nut).expect("NUT posted the SET");
    assert_eq!(
        a,
        b,
        "ours:\n{}\nNUT:\n{}",
        String::from_utf8_lossy(&a.2),
        String::from_utf8_lossy(&b.2)
    );

    // -k: the connection test, then the low-runtime form, from both
    for (ups, exe) in [("ours", PathBuf::from(OURS)), ("nut", debian_driver())] {
        let mut cmd = Command::new(exe);
        cmd.args(["-a", ups, "-k", "-u", "root"]);
        setup.env(&mut cmd);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{ups} -k: {}", String::from_utf8_lossy(&out.stderr));
    }
    let last_post = |c: &Card| {
        c.seen()
            .into_iter()
            .filter(|s| s.method == "POST")
            .nth(1)
            .map(|s| (s.path, s.body))
            .expect("a second POST")
    };
    let (a, b) = (last_post(&pair.ours), last_post(&pair.nut));
    assert_eq!(a, b, "-k forms differ");
    assert!(String::from_utf8_lossy(&a.1).contains(">999999999</OBJECT>"));
}

/// A card that asks for Digest authentication: ours and Debian's
/// (neon's Digest) both answer it with `login`/`password` and show the
/// same; the card checks every answer itself. NUT's start reads the
/// product page of its first, refused, request, so it publishes no
/// `device.mfr`, `device.model` or `device.serial`; ours does
/// (docs/COMPATIBILITY.md).
#[test]
fn digest_card_matches_debian() {
    let mut routes = pages("upsprop.xml", "getvalue.xml");
    for (path, file) in [
        ("/product.xml", "product.xml"),
        ("/upsprop.xml", "upsprop.xml"),
        ("/getvalue.cgi", "getvalue.xml"),
    ] {
        routes.insert(path.into(), Reply::Digest("admin", "secret", data(file)));
    }
    let pair = Pair::new("  login = admin\n  password = secret\n", routes);
    let device = ["device.mfr:", "device.model:", "device.serial:"];
    let v =
        same_view_but(&pair.setup, "Digest card", &device, |v| v.contains("ups.status: OL CHRG"));
    assert!(v.contains("battery.charge: 100"), "{v}");
    assert!(v.contains("device.model: Eaton 5PX\n"), "{v}");
    let nut = view(&pair.setup, "nut");
    assert!(!nut.contains("device.model:"), "NUT now publishes device.*: {nut}");
    assert!(!v.contains("secret"), "the password is published: {v}");
    for card in [&pair.ours, &pair.nut] {
        let answered = card.seen().iter().filter(|s| s.header("Authorization").is_some()).count();
        assert!(answered >= 3, "{answered} answered requests");
    }
}

/// The odd corners, against Debian's driver: a `Transverse` card (ambient
/// values) whose version carries the serial, a product page at
/// `/mgeups/product.xml` with lower-case elements and a URL with extra
/// words, `do_convert_deci`, `shutdown_duration = 60`; objects with
/// entities, CDATA, comments, no value, no name, repeats of static
/// variables, values NUT cuts at 127 bytes, unexpected codes; then an
/// `ALARM` page and an `XML-CLIENT` page.
#[test]
fn quirks_match_debian_netxml_ups() {
    let mut routes = HashMap::new();
    routes.insert("/".to_string(), Reply::Page(200, b"<html/>".to_vec()));
    routes.insert(
        "/mgeups/product.xml".to_string(),
        Reply::Page(200, data("product-transverse.xml")),
    );
    routes.insert("/ws/summary.xml".to_string(), Reply::Page(200, data("summary-quirks.xml")));
    routes.insert("/getvalue.cgi".to_string(), Reply::Page(200, data("getvalue-quirks.xml")));
    let pair = Pair::new("  do_convert_deci\n  shutdown_duration = 60\n", routes);
    let v = same_view(&pair.setup, "quirk pages", |v| v.contains("ups.status:"));
    for want in [
        "ambient.humidity.maximum: 1",
        "battery.charge: 97",
        "ups.model: Eaton 9SX & Co",
        "ups.mfr: EATON <cdata>",
        "input.L1-L2.voltage: 400.1",
        "battery.capacity: 3.43",
        "input.bypass.phases: 2",
        "ups.status: ALARM OL BYPASS OFF FSD",
        "ups.date: 2008",
    ] {
        assert!(v.contains(want), "{want}: {v}");
    }
    assert!(v.contains("ups.serial: 49EH29101"), "{v}");
    pair.set("/getvalue.cgi", Reply::Page(200, data("alarm.xml")));
    pair.set("/ws/summary.xml", Reply::Page(200, data("xml-client.xml")));
    let v = same_view(&pair.setup, "alarm and xml-client pages", |v| {
        v.contains("driver.delay.shutdown: 150")
    });
    assert!(v.contains("OVER"), "{v}");
}

/// `subscribe`: NUT 2.8.0 posts its `<Subscribe>` document, but its
/// reply parser wants every line of the answer to be both a `<Port>` and
/// a `<Secret>` line, so the subscription never succeeds and every poll
/// after it is stale. Ours accepts the flag and keeps polling (the alarm
/// channel is not implemented).
#[test]
fn subscribe_flag_against_debian() {
    let mut routes = pages("upsprop.xml", "getvalue.xml");
    routes.insert(
        "/subscribe.cgi".into(),
        Reply::Page(200, b"<Port>4679</Port>\r\n<Secret>1234</Secret>\r\n".to_vec()),
    );
    routes.insert("/config.xml".into(), Reply::Page(200, data("xml-client.xml")));
    let pair = Pair::new("  subscribe\n", routes);
    let ours = pair.setup.upsc_ready("ours");
    assert!(ours.contains("battery.charge: 100"), "{ours}");
    let mut last = String::new();
    let stale = wait_until(Duration::from_secs(30), Duration::from_millis(200), || {
        last = pair.setup.upsc(&[&pair.setup.target("nut")]).1;
        last.contains("Data stale")
    });
    assert!(stale, "Debian's netxml-ups with subscribe: {last}");
    let posts: Vec<Seen> = pair.nut.seen().into_iter().filter(|s| s.method == "POST").collect();
    assert!(
        posts.iter().any(|s| s.path == "/subscribe.cgi"
            && String::from_utf8_lossy(&s.body).contains("<Class>netxml-ups v0.44</Class>")),
        "{posts:?}"
    );
    assert!(pair.ours.seen().iter().all(|s| s.method != "POST"));
}

use nut_testkit::procstat::{cpu_ns, rss_kib};

/// By hand (`--ignored`, best with `--release`): ours and Debian's
/// driver side by side on the Eaton pages, `pollinterval = 1`, for 30 s:
/// CPU per poll (schedstat, all threads), HTTP requests per poll,
/// resident memory. Numbers go to `benches/README.md`.
#[test]
#[ignore]
fn bench_side_by_side() {
    let pair = Pair::new("", pages("upsprop.xml", "getvalue.xml"));
    pair.setup.upsc_ready("ours");
    pair.setup.upsc_ready("nut");
    let pids = [pair.setup.procs[0].pid(), pair.setup.procs[1].pid()];
    let polls = |c: &Card| c.seen().iter().filter(|s| s.path == "/getvalue.cgi").count();
    let requests = |c: &Card| c.seen().len();
    let cards = [&pair.ours, &pair.nut];
    let cpu0: Vec<u64> = pids.iter().map(|&p| cpu_ns(p)).collect();
    let polls0: Vec<usize> = cards.iter().map(|c| polls(c)).collect();
    let req0: Vec<usize> = cards.iter().map(|c| requests(c)).collect();
    std::thread::sleep(Duration::from_secs(30));
    println!("| driver | polls | requests/poll | CPU/poll (µs) | RSS (KiB) |");
    println!("|---|---|---|---|---|");
    for (i, name) in ["ours", "Debian 2.8.0"].iter().enumerate() {
        let n = polls(cards[i]) - polls0[i];
        let r = requests(cards[i]) - req0[i];
        let cpu = cpu_ns(pids[i]) - cpu0[i];
        println!(
            "| {name} | {n} | {:.1} | {:.0} | {} |",
            r as f64 / n.max(1) as f64,
            cpu as f64 / n.max(1) as f64 / 1000.0,
            rss_kib(pids[i])
        );
    }
}
