//! HTTP authentication to the card: the `WWW-Authenticate` challenges of a
//! 401 answer and the `Authorization` header that answers them.
//!
//! NUT 2.8.0's `netxml-ups` hands `login`/`password` to neon, whose
//! default offers Basic (RFC 7617) and Digest (RFC 7616). The same two are
//! here, Digest preferred when a card offers both: MD5, SHA-256 and
//! SHA-512-256, each also as `-sess`, with `qop=auth` or without `qop`
//! (RFC 2069). A
//! challenge with an unknown algorithm, or whose only `qop` is `auth-int`,
//! is not answered.
//!
//! No I/O: the caller supplies the client nonce of each Digest answer.
//!
//! ```
//! use nut_netxml::auth::{Auth, parse_challenges};
//! let header = r#"Digest realm="card", nonce="abc", qop="auth", algorithm=MD5"#;
//! let challenges = parse_challenges(header);
//! let mut auth = Auth::choose(&challenges, "admin", "secret").unwrap();
//! let value = auth.authorization("GET", "/upsprop.xml", "0a4f113b");
//! assert!(value.starts_with("Digest username=\"admin\", realm=\"card\""));
//! assert!(value.contains("nc=00000001"));
//! ```

use md5::Md5;
use sha2::{Digest as _, Sha256, Sha512_256};

/// The most challenges read from one header, and parameters from one
/// challenge: a card sends two or three of each.
pub const MAX_ITEMS: usize = 32;

/// One challenge of a `WWW-Authenticate` header: its scheme and its
/// parameters (names in lower case, quoted values unescaped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme (`Basic`, `Digest`, ...), as sent.
    pub scheme: String,
    /// The parameters, in order.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name` (lower case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }
}

/// Blanks between items (line breaks too: a folded header keeps them).
const WS: [char; 4] = [' ', '\t', '\r', '\n'];

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// Reads the challenges of one `WWW-Authenticate` value (several may share
/// it, separated by commas). What cannot be read ends the parse: the
/// challenges before it are kept. At most [`MAX_ITEMS`] challenges, and
/// parameters each.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches(|c| c == ',' || WS.contains(&c));
        let len = rest.find(|c| !is_token_char(c)).unwrap_or(rest.len());
        if len == 0 {
            return out;
        }
        let (token, after) = rest.split_at(len);
        let after_ws = after.trim_start_matches(WS);
        // `name=value` (not `token68==`) is a parameter of the challenge
        // being read; anything else starts a new challenge.
        let param_value = after_ws.strip_prefix('=').filter(|v| !v.starts_with('='));
        match (param_value, out.last_mut()) {
            (Some(v), Some(current)) => {
                let v = v.trim_start_matches(WS);
                let Some((value, next)) = read_value(v) else { return out };
                if current.params.len() < MAX_ITEMS {
                    current.params.push((token.to_ascii_lowercase(), value));
                }
                rest = next;
            }
            (Some(_), None) => return out,
            (None, _) => {
                if out.len() >= MAX_ITEMS {
                    return out;
                }
                out.push(Challenge { scheme: token.to_string(), params: Vec::new() });
                rest = after;
                // A token68 right after the scheme (Negotiate's blob) is
                // skipped: a word with no `=` but its padding, not followed
                // by `=`.
                let end = after_ws.find(|c| c == ',' || WS.contains(&c)).unwrap_or(after_ws.len());
                let (blob, tail) = after_ws.split_at(end);
                let word = blob.trim_end_matches('=');
                if !word.is_empty()
                    && !word.contains('=')
                    && !tail.trim_start_matches(WS).starts_with('=')
                {
                    rest = tail;
                }
            }
        }
    }
}

/// A quoted string (backslash escapes) or a token, and what follows it.
fn read_value(s: &str) -> Option<(String, &str)> {
    if let Some(q) = s.strip_prefix('"') {
        let mut value = String::new();
        let mut chars = q.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => return Some((value, &q[i + 1..])),
                '\\' => value.push(chars.next()?.1),
                c => value.push(c),
            }
        }
        None
    } else {
        let len = s.find(|c| !is_token_char(c)).unwrap_or(s.len());
        (len > 0).then(|| (s[..len].to_string(), &s[len..]))
    }
}

/// How requests are authenticated after a challenge. Its `Debug` shows
/// no credentials.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Basic ...`, the same on every request.
    Basic(String),
    /// Digest: a new answer for every request.
    Digest(DigestAuth),
}

impl Auth {
    /// The scheme to answer `challenges` with, for `user` and `password`:
    /// the first usable Digest challenge, else Basic if offered, else
    /// `None`.
    pub fn choose(challenges: &[Challenge], user: &str, password: &str) -> Option<Auth> {
        if let Some(d) = challenges
            .iter()
            .filter(|c| c.is("Digest"))
            .find_map(|c| DigestAuth::new(c, user, password))
        {
            return Some(Auth::Digest(d));
        }
        challenges.iter().any(|c| c.is("Basic")).then(|| {
            Auth::Basic(format!("Basic {}", base64(format!("{user}:{password}").as_bytes())))
        })
    }

    /// The `Authorization` value for a request (`method`, request target
    /// `uri`); `cnonce` is the client nonce of a Digest answer (a few
    /// random bytes in hex), unused by Basic.
    pub fn authorization(&mut self, method: &str, uri: &str, cnonce: &str) -> String {
        match self {
            Auth::Basic(v) => v.clone(),
            Auth::Digest(d) => d.authorization(method, uri, cnonce),
        }
    }
}

/// A Digest hash algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    Md5,
    Sha256,
    Sha512_256,
}

/// Digest authentication (RFC 7616) in answer to one challenge. Its
/// `Debug` shows no password.
#[derive(Clone)]
pub struct DigestAuth {
    user: String,
    password: String,
    realm: String,
    nonce: String,
    opaque: Option<String>,
    /// As the challenge named it (echoed back).
    algorithm_name: Option<String>,
    algorithm: Algorithm,
    session: bool,
    qop_auth: bool,
    /// Answers sent with this nonce.
    count: u32,
}

impl core::fmt::Debug for Auth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Auth::Basic(_) => f.write_str("Basic(..)"),
            Auth::Digest(d) => f.debug_tuple("Digest").field(d).finish(),
        }
    }
}

impl core::fmt::Debug for DigestAuth {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DigestAuth")
            .field("user", &self.user)
            .field("realm", &self.realm)
            .field("algorithm", &self.algorithm)
            .field("session", &self.session)
            .field("qop_auth", &self.qop_auth)
            .field("count", &self.count)
            .finish_non_exhaustive()
    }
}

impl DigestAuth {
    /// Digest answers to `challenge`, or `None` when it cannot be answered
    /// (no nonce, an unknown algorithm, only `qop=auth-int`).
    pub fn new(challenge: &Challenge, user: &str, password: &str) -> Option<DigestAuth> {
        let nonce = challenge.param("nonce")?.to_string();
        let algorithm_name = challenge.param("algorithm").map(str::to_string);
        let (algorithm, session) = match algorithm_name.as_deref().map(str::to_ascii_uppercase) {
            None => (Algorithm::Md5, false),
            Some(a) => match a.as_str() {
                "MD5" => (Algorithm::Md5, false),
                "MD5-SESS" => (Algorithm::Md5, true),
                "SHA-256" => (Algorithm::Sha256, false),
                "SHA-256-SESS" => (Algorithm::Sha256, true),
                "SHA-512-256" => (Algorithm::Sha512_256, false),
                "SHA-512-256-SESS" => (Algorithm::Sha512_256, true),
                _ => return None,
            },
        };
        let qop_auth = match challenge.param("qop") {
            None => false,
            Some(q) => {
                if !q.split(',').any(|t| t.trim().eq_ignore_ascii_case("auth")) {
                    return None;
                }
                true
            }
        };
        Some(DigestAuth {
            user: user.to_string(),
            password: password.to_string(),
            realm: challenge.param("realm").unwrap_or_default().to_string(),
            nonce,
            opaque: challenge.param("opaque").map(str::to_string),
            algorithm_name,
            algorithm,
            session,
            qop_auth,
            count: 0,
        })
    }

    fn hash(&self, data: &str) -> String {
        match self.algorithm {
            Algorithm::Md5 => hex(&Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(data.as_bytes())),
            Algorithm::Sha512_256 => hex(&Sha512_256::digest(data.as_bytes())),
        }
    }

    /// The `Authorization` value for a request (see
    /// [`Auth::authorization`]); counts the nonce's uses.
    pub fn authorization(&mut self, method: &str, uri: &str, cnonce: &str) -> String {
        self.count = self.count.wrapping_add(1);
        let nc = format!("{:08x}", self.count);
        let mut ha1 = self.hash(&format!("{}:{}:{}", self.user, self.realm, self.password));
        if self.session {
            ha1 = self.hash(&format!("{ha1}:{}:{cnonce}", self.nonce));
        }
        let ha2 = self.hash(&format!("{method}:{uri}"));
        let response = if self.qop_auth {
            self.hash(&format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce))
        } else {
            self.hash(&format!("{ha1}:{}:{ha2}", self.nonce))
        };
        let mut v = format!(
            "Digest username={}, realm={}, nonce={}, uri={}, response=\"{response}\"",
            quote(&self.user),
            quote(&self.realm),
            quote(&self.nonce),
            quote(uri),
        );
        if let Some(a) = &self.algorithm_name {
            v.push_str(&format!(", algorithm={a}"));
        }
        if let Some(o) = &self.opaque {
            v.push_str(&format!(", opaque={}", quote(o)));
        }
        if self.qop_auth {
            v.push_str(&format!(", qop=auth, nc={nc}, cnonce={}", quote(cnonce)));
        }
        v
    }
}

/// A quoted string: `"` and `\` escaped, control characters dropped (a
/// header value cannot carry them).
fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        if c == '"' || c == '\\' {
            q.push('\\');
        }
        q.push(c);
    }
    q.push('"');
    q
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Standard base64 with padding (Basic's credentials).
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                s.push(char::from(T[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                s.push('=');
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges() {
        let c = parse_challenges(
            r#"Basic realm="a b", Digest realm="x\"y", nonce=abc, qop="auth,auth-int",
            Negotiate dGVzdA==, Negotiate abc, Bearer, Digest nonce = "n""#,
        );
        let schemes: Vec<&str> = c.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Basic", "Digest", "Negotiate", "Negotiate", "Bearer", "Digest"]);
        assert_eq!(c[5].param("nonce"), Some("n"));
        assert_eq!(c[0].param("realm"), Some("a b"));
        assert_eq!(c[1].param("realm"), Some("x\"y"));
        assert_eq!(c[1].param("nonce"), Some("abc"));
        assert_eq!(c[1].param("qop"), Some("auth,auth-int"));
        assert!(c[2].params.is_empty());
        // an unterminated quote ends the parse; what came before is kept
        let c = parse_challenges(r#"Digest nonce="abc"#);
        assert_eq!(c.len(), 1);
        assert!(c[0].params.is_empty());
        assert!(parse_challenges("=x").is_empty());
    }

    /// RFC 7616 section 3.9.1's example (SHA-256 and MD5 answers to the
    /// same challenge) and RFC 2617 section 3.5's (MD5).
    #[test]
    fn rfc_examples() {
        let header = r#"Digest realm="http-auth@example.org", qop="auth, auth-int",
            algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        // RFC 7616's example with its algorithm replaced: the first answer.
        let answer = |alg: &str| {
            let c = header.replace("SHA-256", alg);
            let mut d =
                DigestAuth::new(&parse_challenges(&c)[0], "Mufasa", "Circle of Life").unwrap();
            d.authorization(
                "GET",
                "/dir/index.html",
                "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
            )
        };
        // SHA-512-256 (RFC 7616 has no example without userhash): the
        // expected answers were computed with Python's hashlib.
        for (alg, want) in [
            ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
            ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
            ("SHA-512-256", "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0"),
            (
                "SHA-512-256-sess",
                "3f2a34f923c38b0fb26dce2fdfc2ce326c23cecf86fbb1444f3e51fbbc2cb92e",
            ),
        ] {
            let v = answer(alg);
            assert!(v.contains(&format!("response=\"{want}\"")), "{alg}: {v}");
            assert!(v.contains(&format!("algorithm={alg}")), "{alg}: {v}");
            assert!(v.contains("nc=00000001"), "{v}");
        }

        let header = r#"Digest realm="testrealm@host.com", qop="auth,auth-int",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41""#;
        let mut d =
            DigestAuth::new(&parse_challenges(header)[0], "Mufasa", "Circle Of Life").unwrap();
        let v = d.authorization("GET", "/dir/index.html", "0a4f113b");
        assert!(v.contains("response=\"6629fae49393a05397450978507c4ef1\""), "{v}");
        assert!(v.contains("opaque=\"5ccc069c403ebaf9f0171e9517f40e41\""), "{v}");
        assert!(d.authorization("GET", "/", "x").contains("nc=00000002"));
    }

    #[test]
    fn choice() {
        let both = parse_challenges(r#"Basic realm="r", Digest realm="r", nonce="n""#);
        assert!(matches!(Auth::choose(&both, "u", "p"), Some(Auth::Digest(_))));
        let odd =
            parse_challenges(r#"Digest realm="r", nonce="n", algorithm=SHA-512, Basic realm="r""#);
        let Some(Auth::Basic(v)) = Auth::choose(&odd, "admin", "secret") else { panic!() };
        assert_eq!(v, "Basic YWRtaW46c2VjcmV0");
        let int_only = parse_challenges(r#"Digest realm="r", nonce="n", qop="auth-int""#);
        assert!(Auth::choose(&int_only, "u", "p").is_none());
        assert!(Auth::choose(&parse_challenges("Bearer"), "u", "p").is_none());
        // no qop: RFC 2069's answer, without nc or cnonce
        let mut a =
            Auth::choose(&parse_challenges(r#"Digest realm="r", nonce="n""#), "u", "p").unwrap();
        let v = a.authorization("GET", "/", "c");
        assert!(!v.contains("nc=") && !v.contains("cnonce"), "{v}");
    }

    #[test]
    fn debug_shows_no_secret() {
        let c = parse_challenges(r#"Basic realm="r", Digest realm="r", nonce="n""#);
        let digest = Auth::choose(&c, "admin", "s3cret").unwrap();
        let basic = Auth::choose(&c[..1], "admin", "s3cret").unwrap();
        for a in [digest, basic] {
            let text = format!("{a:?}");
            assert!(!text.contains("s3cret") && !text.contains("YWRtaW46czNjcmV0"), "{text}");
        }
    }

    #[test]
    fn base64_padding() {
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }
}
