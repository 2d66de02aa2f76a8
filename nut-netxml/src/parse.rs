//! A whole XML document checked and turned into a bounded list of
//! events before anything is published, so that a malformed or oversized
//! page changes nothing.

use crate::error::Error;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// The largest page accepted, in bytes (a card's pages are a few KiB to
/// a few tens of KiB).
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;

/// The most elements accepted in one page.
pub const MAX_ELEMENTS: usize = 20_000;

/// The deepest nesting accepted.
pub const MAX_DEPTH: usize = 32;

/// The most attributes accepted on one element.
pub const MAX_ATTRIBUTES: usize = 32;

/// One event of a checked document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// An element opens (an empty element is a start and an end).
    Start { name: String, attrs: Vec<(String, String)> },
    /// Character data inside an element (entities resolved).
    Text(String),
    /// The innermost open element closes.
    End,
}

fn xml_error(url: &str, pos: u64, element: Option<&str>, reason: impl ToString) -> Error {
    Error::Xml {
        url: url.to_string(),
        position: pos,
        element: element.map(str::to_string),
        reason: reason.to_string(),
    }
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

/// The names of ISO-8859-1 a declaration may use.
const LATIN1: &[&str] = &["ISO-8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "L1"];

/// The `encoding` of the XML declaration, if there is one.
fn declared_encoding(body: &[u8]) -> Option<&str> {
    let body = body.strip_prefix(b"\xef\xbb\xbf").unwrap_or(body);
    let rest = body.strip_prefix(b"<?xml")?;
    let end = rest.windows(2).take(512).position(|w| w == b"?>")?;
    let decl = std::str::from_utf8(&rest[..end]).ok()?;
    let after = &decl[decl.find("encoding")? + "encoding".len()..];
    let after = after.trim_start().strip_prefix('=')?.trim_start();
    let quote = after.chars().next().filter(|&c| c == '"' || c == '\'')?;
    let value = &after[1..];
    Some(&value[..value.find(quote)?])
}

/// Checks a whole document and returns its events. `url` names the page
/// in errors.
pub(crate) fn parse_document(url: &str, body: &[u8]) -> Result<Vec<Ev>, Error> {
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(Error::TooLarge {
            url: url.to_string(),
            size: body.len(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    let latin1;
    let body = match declared_encoding(body) {
        None => body,
        Some(e)
            if e.eq_ignore_ascii_case("UTF-8")
                || e.eq_ignore_ascii_case("UTF8")
                || e.eq_ignore_ascii_case("US-ASCII") =>
        {
            body
        }
        Some(e) if LATIN1.iter().any(|l| e.eq_ignore_ascii_case(l)) => {
            // every byte is the code point of the same number
            latin1 = body.iter().map(|&b| char::from(b)).collect::<String>();
            latin1.as_bytes()
        }
        Some(e) => {
            return Err(xml_error(url, 0, None, format!("unsupported encoding {e:?}")));
        }
    };
    let mut reader = Reader::from_reader(body);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = true;
    let mut events = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut elements = 0usize;
    let mut seen_root = false;
    loop {
        let pos = reader.buffer_position();
        let here = stack.last().map(String::as_str);
        let ev =
            reader.read_event().map_err(|e| xml_error(url, reader.error_position(), here, e))?;
        match ev {
            Event::Start(s) => {
                let name = String::from_utf8(s.local_name().as_ref().to_vec())
                    .map_err(|_| xml_error(url, pos, here, "element name is not UTF-8"))?;
                if stack.is_empty() && seen_root {
                    return Err(xml_error(url, pos, Some(&name), "a second root element"));
                }
                seen_root = true;
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err(Error::TooManyElements {
                        url: url.to_string(),
                        limit: MAX_ELEMENTS,
                    });
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(Error::TooDeep {
                        url: url.to_string(),
                        element: name,
                        limit: MAX_DEPTH,
                    });
                }
                let mut attrs = Vec::new();
                for a in s.attributes() {
                    let a = a.map_err(|e| xml_error(url, pos, Some(&name), e))?;
                    if attrs.len() >= MAX_ATTRIBUTES {
                        return Err(xml_error(url, pos, Some(&name), "too many attributes"));
                    }
                    let key =
                        String::from_utf8(a.key.local_name().as_ref().to_vec()).map_err(|_| {
                            xml_error(url, pos, Some(&name), "attribute name is not UTF-8")
                        })?;
                    let value = a
                        .decode_and_unescape_value(reader.decoder())
                        .map_err(|e| xml_error(url, pos, Some(&name), e))?;
                    attrs.push((key, value.into_owned()));
                }
                stack.push(name.clone());
                events.push(Ev::Start { name, attrs });
            }
            Event::End(_) => {
                stack.pop();
                events.push(Ev::End);
            }
            Event::Empty(_) => {
                // expand_empty_elements: never produced
                return Err(xml_error(url, pos, here, "unexpected empty element"));
            }
            Event::Text(t) => {
                let text = t.decode().map_err(|e| xml_error(url, pos, here, e))?;
                if stack.is_empty() {
                    if !text.trim().is_empty() {
                        return Err(xml_error(url, pos, None, "text outside the root element"));
                    }
                } else {
                    events.push(Ev::Text(text.into_owned()));
                }
            }
            Event::CData(t) => {
                if stack.is_empty() {
                    return Err(xml_error(url, pos, None, "CDATA outside the root element"));
                }
                let text = t.decode().map_err(|e| xml_error(url, pos, here, e))?;
                events.push(Ev::Text(text.into_owned()));
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| xml_error(url, pos, here, e))?
                } else {
                    let n = r.decode().map_err(|e| xml_error(url, pos, here, e))?;
                    predefined(&n)
                };
                let Some(c) = c else {
                    return Err(xml_error(url, pos, here, "undefined entity"));
                };
                if stack.is_empty() {
                    return Err(xml_error(url, pos, None, "reference outside the root element"));
                }
                events.push(Ev::Text(c.to_string()));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(xml_error(url, pos, Some(open), "document ends inside an element"));
                }
                if !seen_root {
                    return Err(xml_error(url, pos, None, "no root element"));
                }
                return Ok(events);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events() {
        let ev = parse_document(
            "/x",
            b"<?xml version=\"1.0\"?>\n<SUMMARY><OBJECT name=\"a&amp;b\">1&lt;2<![CDATA[x]]></OBJECT><E/></SUMMARY>\n",
        )
        .unwrap();
        assert_eq!(
            ev,
            vec![
                Ev::Start { name: "SUMMARY".into(), attrs: vec![] },
                Ev::Start { name: "OBJECT".into(), attrs: vec![("name".into(), "a&b".into())] },
                Ev::Text("1".into()),
                Ev::Text("<".into()),
                Ev::Text("2".into()),
                Ev::Text("x".into()),
                Ev::End,
                Ev::Start { name: "E".into(), attrs: vec![] },
                Ev::End,
                Ev::End,
            ]
        );
    }

    #[test]
    fn malformed() {
        for (doc, want) in [
            (&b""[..], "no root element"),
            (b"<A><B></A>", "/p"),
            (b"<A>", "ends inside an element"),
            (b"<A/><B/>", "second root"),
            (b"<A x='1' x='2'/>", "<A>"),
            (b"<A>&foo;</A>", "undefined entity"),
            (b"Not Found", "outside the root"),
        ] {
            let e = parse_document("/p", doc).unwrap_err().to_string();
            assert!(e.contains(want) && e.contains("/p"), "{e}");
        }
    }

    #[test]
    fn encodings() {
        let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><A>\xe9</A>";
        let ev = parse_document("/p", doc).unwrap();
        assert_eq!(ev[1], Ev::Text("\u{e9}".into()));
        let e = parse_document("/p", b"<?xml version='1.0' encoding='UTF-16'?><A/>").unwrap_err();
        assert!(e.to_string().contains("unsupported encoding"), "{e}");
        let e = parse_document("/p", b"<A>\xe9</A>").unwrap_err();
        assert!(e.to_string().contains("/p: malformed XML"), "{e}");
        assert!(
            parse_document("/p", "<?xml version='1.0' encoding='utf-8'?><A>\u{e9}</A>".as_bytes())
                .is_ok()
        );
    }

    #[test]
    fn limits() {
        let big = vec![b' '; MAX_DOCUMENT_BYTES + 1];
        assert!(matches!(parse_document("/p", &big), Err(Error::TooLarge { .. })));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(matches!(parse_document("/p", deep.as_bytes()), Err(Error::TooDeep { .. })));
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_ELEMENTS));
        assert!(matches!(
            parse_document("/p", many.as_bytes()),
            Err(Error::TooManyElements { .. })
        ));
    }
}
