//! The driver's HTTP conversation as a state machine: which page to ask
//! for next, what to do with the answer.

use crate::error::Error;
use crate::map::{Mapper, Options};
use crate::parse::parse_document;
use crate::table;
use nut_proto::publish::Publish;
use nut_proto::sock::VarFlags;
use std::time::Instant;

/// The subdriver version: published as `driver.version.data` and sent
/// as the HTTP `User-Agent`.
pub const VERSION: &str = "MGEXML/0.36";

/// The page asked for first, to test the connection (its body is not
/// read).
pub const CONNECTIVITY_PAGE: &str = "/";

/// The product pages tried in turn; the first that answers is the
/// product page for the rest of the run.
pub const PRODUCT_PAGES: [&str; 3] = ["/mgeups/product.xml", "/product.xml", "/ws/product.xml"];

/// Where variables are written (`SET`, `-k`): a `multipart/form-data`
/// POST whose answer is not read.
pub const SET_PAGE: &str = "/Forms/set_obj_2";

/// The boundary of the form a SET posts.
pub const FORM_BOUNDARY: &str = "NUT-NETXML-UPS-OBJECTS";

/// The `Content-Type` of a SET.
pub const FORM_CONTENT_TYPE: &str = "multipart/form-data; boundary=NUT-NETXML-UPS-OBJECTS";

/// An HTTP method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
}

/// A request for the I/O layer to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute path (`/upsprop.xml`).
    pub path: String,
    /// The `Content-Type` of the body, if any.
    pub content_type: Option<&'static str>,
    /// The body (empty for a GET).
    pub body: Vec<u8>,
}

impl Request {
    fn get(path: &str) -> Self {
        Request {
            method: Method::Get,
            path: path.to_string(),
            content_type: None,
            body: Vec::new(),
        }
    }
}

/// How a connect or an update ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The card answers and its product page was read: identity and
    /// writable variables are published.
    Connected,
    /// Every page but at most one was read: values, alarms and status are
    /// published. `errors` says what failed (a missing page included).
    Updated {
        /// The page that failed, if any.
        errors: Vec<Error>,
    },
    /// More than one page failed: the data is stale.
    Stale {
        /// Why.
        errors: Vec<Error>,
    },
    /// The connection test or every product page failed, or the card
    /// speaks XML v4.
    Failed(Error),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Idle,
    Connectivity,
    Product(usize),
    Update(usize),
}

/// The netxml-ups session: a connect (connection test, product page),
/// then one update per poll (object page, property list, product page).
///
/// Drive it with [`poll_request`](Session::poll_request), send the
/// request, hand the answer to
/// [`handle_response`](Session::handle_response) (or the failure to
/// [`handle_error`](Session::handle_error)) until
/// [`poll_outcome`](Session::poll_outcome) says how it ended.
#[derive(Clone, Debug)]
pub struct Session {
    mapper: Mapper,
    stage: Stage,
    product_page: Option<&'static str>,
    errors: Vec<Error>,
    tried: Vec<String>,
    outcome: Option<Outcome>,
    last_ok: Option<Instant>,
}

impl Session {
    /// A session with these mapping options, not yet started.
    pub fn new(options: Options) -> Self {
        Session {
            mapper: Mapper::new(options),
            stage: Stage::Idle,
            product_page: None,
            errors: Vec::new(),
            tried: Vec::new(),
            outcome: None,
            last_ok: None,
        }
    }

    /// Starts a connect: the connection test, then the product pages.
    pub fn connect(&mut self) {
        self.stage = Stage::Connectivity;
        self.tried.clear();
        self.outcome = None;
    }

    /// Starts an update (call after [`Outcome::Connected`]).
    pub fn update(&mut self) {
        self.stage = Stage::Update(0);
        self.errors.clear();
        self.outcome = None;
    }

    /// The mapping state (pages, status bits).
    pub fn mapper(&self) -> &Mapper {
        &self.mapper
    }

    /// The product page in use, once connected.
    pub fn product_page(&self) -> Option<&'static str> {
        self.product_page
    }

    /// When the last update succeeded.
    pub fn last_ok(&self) -> Option<Instant> {
        self.last_ok
    }

    /// The request to send now, if any. Pages the product page does not
    /// name are skipped (and count as failed).
    pub fn poll_request(&mut self) -> Option<Request> {
        match self.stage {
            Stage::Idle => None,
            Stage::Connectivity => Some(Request::get(CONNECTIVITY_PAGE)),
            Stage::Product(i) => Some(Request::get(PRODUCT_PAGES[i])),
            Stage::Update(_) => match self.advance() {
                Some(p) => Some(Request::get(&p)),
                None => {
                    // never connected: no page to read
                    let errors = std::mem::take(&mut self.errors);
                    self.stage = Stage::Idle;
                    self.outcome = Some(Outcome::Stale { errors });
                    None
                }
            },
        }
    }

    /// In an update, skips the pages the product page does not name
    /// (each counts as failed) and returns the next page to read.
    fn advance(&mut self) -> Option<String> {
        let Stage::Update(mut i) = self.stage else { return None };
        loop {
            if i >= 3 {
                self.stage = Stage::Update(i);
                return None;
            }
            let pages = self.mapper.pages();
            let (what, page) = match i {
                0 => ("GET_OBJECT", pages.getobject.clone()),
                1 => ("XML_SUMMARY_PAGE", pages.summary.clone()),
                _ => ("product", self.product_page.map(str::to_string)),
            };
            match page {
                Some(p) => {
                    self.stage = Stage::Update(i);
                    return Some(p);
                }
                None => {
                    self.errors.push(Error::NoPage(what));
                    i += 1;
                }
            }
        }
    }

    /// Takes the answer to the last request: its HTTP status and body.
    pub fn handle_response(
        &mut self,
        status: u16,
        body: &[u8],
        now: Instant,
        out: &mut dyn Publish,
    ) {
        let Some(req) = self.current_path() else { return };
        if self.stage == Stage::Connectivity {
            if (200..300).contains(&status) {
                self.stage = Stage::Product(0);
            } else {
                self.fail(Error::Http { url: req, status });
            }
            return;
        }
        let parsed = if (200..300).contains(&status) {
            parse_document(&req, body)
        } else {
            Err(Error::Http { url: req.clone(), status })
        };
        match parsed {
            Ok(events) => {
                self.mapper.apply(&events, out);
                self.page_done(None, now, out);
            }
            Err(e) => self.page_done(Some(e), now, out),
        }
    }

    /// Takes the failure of the last request (the I/O layer's
    /// [`Error::Transport`], or a [`Error::TooLarge`] it stopped reading).
    pub fn handle_error(&mut self, error: Error, now: Instant, out: &mut dyn Publish) {
        match self.stage {
            Stage::Idle => {}
            Stage::Connectivity => self.fail(error),
            _ => self.page_done(Some(error), now, out),
        }
    }

    /// How the connect or update ended, once it has.
    pub fn poll_outcome(&mut self) -> Option<Outcome> {
        self.outcome.take()
    }

    fn current_path(&self) -> Option<String> {
        match self.stage {
            Stage::Idle => None,
            Stage::Connectivity => Some(CONNECTIVITY_PAGE.to_string()),
            Stage::Product(i) => Some(PRODUCT_PAGES[i].to_string()),
            Stage::Update(i) => {
                let p = self.mapper.pages();
                match i {
                    0 => p.getobject.clone(),
                    1 => p.summary.clone(),
                    2 => self.product_page.map(str::to_string),
                    _ => None,
                }
            }
        }
    }

    fn fail(&mut self, e: Error) {
        self.stage = Stage::Idle;
        self.outcome = Some(Outcome::Failed(e));
    }

    fn page_done(&mut self, error: Option<Error>, now: Instant, out: &mut dyn Publish) {
        match self.stage {
            Stage::Product(i) => {
                if let Some(e) = error {
                    self.tried.push(e.to_string());
                    if i + 1 < PRODUCT_PAGES.len() {
                        self.stage = Stage::Product(i + 1);
                    } else {
                        let tried = std::mem::take(&mut self.tried);
                        self.fail(Error::NoProductPage { tried });
                    }
                    return;
                }
                if self.mapper.is_v4() {
                    self.fail(Error::UnsupportedProtocol { url: PRODUCT_PAGES[i].to_string() });
                    return;
                }
                self.product_page = Some(PRODUCT_PAGES[i]);
                out.setinfo("driver.version.data", VERSION);
                for name in table::writable() {
                    if out.getinfo(name).is_none() {
                        out.setinfo(name, "");
                    }
                    out.setflags(name, VarFlags { rw: true, ..VarFlags::default() });
                }
                self.stage = Stage::Idle;
                self.outcome = Some(Outcome::Connected);
            }
            Stage::Update(i) => {
                self.errors.extend(error);
                self.stage = Stage::Update(i + 1);
                // skip pages that are not named, and finish after the last
                if self.advance().is_none() {
                    self.finish(now, out);
                }
            }
            _ => {}
        }
    }

    fn finish(&mut self, now: Instant, out: &mut dyn Publish) {
        self.stage = Stage::Idle;
        let errors = std::mem::take(&mut self.errors);
        if errors.len() > 1 {
            self.outcome = Some(Outcome::Stale { errors });
        } else {
            self.mapper.commit(out);
            self.last_ok = Some(now);
            self.outcome = Some(Outcome::Updated { errors });
        }
    }

    /// The request that writes a NUT variable (`SET var value`), or
    /// `None` when the table has no object for it.
    pub fn set_request(&self, var: &str, value: &str) -> Option<Request> {
        let row = table::find_nut(var)?;
        Some(form_request(&[(row.xml, value)]))
    }

    /// The request `-k` sends: `battery.runtime.low` set so high that the
    /// card starts its low-battery shutdown at once.
    pub fn shutdown_request(&self) -> Request {
        let xml =
            table::find_nut("battery.runtime.low").map_or("System.RunTimeToEmptyLimit", |r| r.xml);
        form_request(&[(xml, "999999999")])
    }
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            c => s.push(c),
        }
    }
    s
}

/// The `multipart/form-data` POST of a `SET_OBJECT` document setting
/// these objects (XML name, value), as NUT's FORM mode sends it.
pub fn form_request(objects: &[(&str, &str)]) -> Request {
    let mut b = String::new();
    b.push_str("--");
    b.push_str(FORM_BOUNDARY);
    b.push_str(
        "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"Configuration.xml\"\r\n",
    );
    b.push_str("Content-Type: application/octet-stream\r\n\r\n");
    b.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<SET_OBJECT>\r\n");
    for (name, value) in objects {
        b.push_str("  <OBJECT name=\"");
        b.push_str(&escape(name));
        b.push_str("\">");
        b.push_str(&escape(value));
        b.push_str("</OBJECT>\r\n");
    }
    b.push_str("</SET_OBJECT>\r\n--");
    b.push_str(FORM_BOUNDARY);
    b.push_str("--\r\n");
    Request {
        method: Method::Post,
        path: SET_PAGE.to_string(),
        content_type: Some(FORM_CONTENT_TYPE),
        body: b.into_bytes(),
    }
}
