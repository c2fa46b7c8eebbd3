//! The URL rules the client needs, as plain string rules: parse a configured base URL into an
//! origin, decide whether it may be used (HTTPS, or HTTP to loopback), and resolve a caller's
//! path or URL so that the result can only ever point at the configured origin.
//!
//! The rules are deliberately strict: anything a WHATWG parser could read differently (user info,
//! backslashes, control characters, non-ASCII hosts, percent-encoded hosts) is refused rather
//! than interpreted, and a resolved URL is always built as `origin + path`, so no input can move
//! it to another host. Both properties are fuzzed.

use super::error::{Code, Error};
use super::text::{cat, push_u64};

/// `http` or `https`; nothing else is ever fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (loopback only unless allowed).
    Http,
    /// HTTPS.
    Https,
}

/// A scheme, a lower-cased host and a port (`None` for the scheme's default).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The scheme.
    pub scheme: Scheme,
    /// The host, lower-cased; an IPv6 address keeps its brackets.
    pub host: String,
    /// The port when it is not the scheme's default.
    pub port: Option<u16>,
}

impl Origin {
    /// `https://host[:port]`, as `URL.origin` prints it.
    pub fn serialize(&self) -> String {
        let mut s = String::from(match self.scheme {
            Scheme::Http => "http://",
            Scheme::Https => "https://",
        });
        s.push_str(&self.host);
        if let Some(p) = self.port {
            s.push(':');
            push_u64(&mut s, u64::from(p));
        }
        s
    }

    /// `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]`: hosts that never leave the machine.
    pub fn is_loopback(&self) -> bool {
        let h = self.host.as_str();
        if h == "localhost" || h.ends_with(".localhost") || h == "[::1]" {
            return true;
        }
        let parts: Vec<&str> = h.split('.').collect();
        parts.len() == 4
            && parts[0] == "127"
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.len() <= 3
                    && p.bytes().all(|b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255)
            })
    }
}

/// A parsed absolute URL: its origin and the rest (path, query and fragment; at least `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed {
    /// The origin.
    pub origin: Origin,
    /// Everything after the authority, starting with `/`, `?` or `#`, or `/` when empty.
    pub rest: String,
}

/// Why a URL was refused; the caller turns it into an error with its own context.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not `http://` or `https://`.
    Scheme,
    /// Empty, or with a character that is never valid (space, control, backslash).
    Malformed,
    /// `user:password@` in the URL.
    UserInfo,
    /// A host that is empty, non-ASCII or has characters a host cannot have.
    Host,
    /// A port that is not a number from 0 to 65535.
    Port,
}

impl UrlProblem {
    /// Says what is wrong, for an error message.
    pub fn describe(self) -> &'static str {
        match self {
            UrlProblem::Scheme => "it must start with https:// (or http:// for a loopback host)",
            UrlProblem::Malformed => "it is empty or has spaces, control characters or backslashes",
            UrlProblem::UserInfo => "it must not carry a user name or password (user@host); give credentials as options",
            UrlProblem::Host => "its host is empty or not a plain ASCII host name (use the xn-- form for international names)",
            UrlProblem::Port => "its port is not a number from 0 to 65535",
        }
    }
}

fn scheme_len(input: &str) -> Option<usize> {
    let b = input.as_bytes();
    if !b.first()?.is_ascii_alphabetic() {
        return None;
    }
    let end = b.iter().position(|&c| c == b':')?;
    if b[..end]
        .iter()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        Some(end)
    } else {
        None
    }
}

/// Parses an absolute `http(s)://` URL strictly. Surrounding ASCII whitespace is ignored (pasted
/// URLs often carry a newline); anything else unusual is refused.
pub fn parse(input: &str) -> Result<Parsed, UrlProblem> {
    let input = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if input.is_empty()
        || input
            .chars()
            .any(|c| c.is_control() || c == ' ' || c == '\\')
    {
        return Err(UrlProblem::Malformed);
    }
    let colon = scheme_len(input).ok_or(UrlProblem::Scheme)?;
    let scheme = if input[..colon].eq_ignore_ascii_case("https") {
        Scheme::Https
    } else if input[..colon].eq_ignore_ascii_case("http") {
        Scheme::Http
    } else {
        return Err(UrlProblem::Scheme);
    };
    let after = input[colon + 1..]
        .strip_prefix("//")
        .ok_or(UrlProblem::Scheme)?;
    let auth_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..auth_end];
    let rest = if auth_end == after.len() || after.as_bytes()[auth_end] != b'/' {
        cat(&["/", &after[auth_end..]])
    } else {
        after[auth_end..].to_string()
    };
    if authority.contains('@') {
        return Err(UrlProblem::UserInfo);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or(UrlProblem::Host)?;
        let addr = &v6[..close];
        if addr.is_empty()
            || !addr
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlProblem::Host);
        }
        let tail = &v6[close + 1..];
        let port = match tail.strip_prefix(':') {
            Some(p) => Some(p),
            None if tail.is_empty() => None,
            None => return Err(UrlProblem::Host),
        };
        (cat(&["[", &addr.to_ascii_lowercase(), "]"]), port)
    } else {
        let (h, p) = match authority.rfind(':') {
            Some(i) => (&authority[..i], Some(&authority[i + 1..])),
            None => (authority, None),
        };
        if h.is_empty()
            || h.starts_with('.')
            || super::text::contains(h, "..")
            || !h
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Err(UrlProblem::Host);
        }
        (h.to_ascii_lowercase(), p)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => {
            if p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(UrlProblem::Port);
            }
            let n: u32 = p.parse().map_err(|_| UrlProblem::Port)?;
            let n = u16::try_from(n).map_err(|_| UrlProblem::Port)?;
            let default = match scheme {
                Scheme::Http => 80,
                Scheme::Https => 443,
            };
            (n != default).then_some(n)
        }
    };
    Ok(Parsed {
        origin: Origin { scheme, host, port },
        rest,
    })
}

/// Parses a configured URL and checks that it may carry credentials: HTTPS, or HTTP to a loopback
/// host, or HTTP anywhere when the user set `allowInsecureHttp`. `what` names the option.
pub fn parse_config_url(
    what: &str,
    input: &str,
    allow_insecure_http: bool,
) -> Result<Parsed, Error> {
    let parsed = parse(input).map_err(|p| {
        Error::new(
            Code::InvalidConfig,
            cat(&[what, " is not a valid URL: ", p.describe()]),
        )
    })?;
    check_secure(what, &parsed.origin, allow_insecure_http)?;
    Ok(parsed)
}

/// Refuses plain HTTP to a host that is not loopback unless explicitly allowed.
pub fn check_secure(what: &str, origin: &Origin, allow_insecure_http: bool) -> Result<(), Error> {
    if origin.scheme == Scheme::Http && !origin.is_loopback() && !allow_insecure_http {
        return Err(Error::new(
            Code::InsecureUrl,
            cat(&[
                what,
                " uses http:// to ",
                &origin.host,
                ": credentials and tokens would travel unencrypted",
            ]),
        )
        .hint("use https://, or set allowInsecureHttp: true for a trusted network"));
    }
    Ok(())
}

/// Resolves what a caller passed to `fetch` against the configured origin. A path (`/x`, or `x`
/// taken as `/x`) is put after the origin; an absolute URL is accepted only when its origin is the
/// configured one. The result is always `base.serialize() + path`, so it cannot name another host.
pub fn resolve(base: &Origin, input: &str) -> Result<String, Error> {
    if input.is_empty() {
        return Err(Error::new(Code::InvalidArgument, "the path is empty")
            .hint("pass a path such as /platform/management/v1/environment"));
    }
    if input.chars().any(|c| c.is_control()) {
        return Err(Error::new(
            Code::InvalidArgument,
            "the path has control characters",
        ));
    }
    let b = input.as_bytes();
    // `//host/x` and `\\host` are scheme-relative URLs to another host for a WHATWG parser.
    if b.len() >= 2 && matches!(b[0], b'/' | b'\\') && matches!(b[1], b'/' | b'\\') || b[0] == b'\\'
    {
        return Err(another_origin(base, None));
    }
    if scheme_len(input).is_some() {
        let parsed = parse(input).map_err(|p| match p {
            UrlProblem::Scheme => another_origin(base, None),
            _ => Error::new(
                Code::InvalidArgument,
                cat(&["the URL is not valid: ", p.describe()]),
            ),
        })?;
        if parsed.origin != *base {
            return Err(another_origin(base, Some(&parsed.origin)));
        }
        return Ok(cat(&[&base.serialize(), &parsed.rest]));
    }
    let sep = if b[0] == b'/' { "" } else { "/" };
    Ok(cat(&[&base.serialize(), sep, input]))
}

fn another_origin(base: &Origin, other: Option<&Origin>) -> Error {
    let mut msg = String::from("refusing to send the token to another origin");
    if let Some(o) = other {
        msg.push_str(" (");
        msg.push_str(&o.serialize());
        msg.push(')');
    }
    Error::new(Code::InsecureUrl, msg).hint(cat(&[
        "this client only calls ",
        &base.serialize(),
        "; use plain fetch for other hosts",
    ]))
}

/// Appends `name=value` to the query of a URL (before any fragment) unless the query already has
/// a parameter of that name.
pub fn ensure_query_param(url: &str, name: &str, value: &str) -> String {
    let (head, frag) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let query = head.find('?').map(|i| &head[i + 1..]);
    if let Some(q) = query {
        if q.split('&').any(|kv| kv.split('=').next() == Some(name)) {
            return url.to_string();
        }
    }
    let sep = match query {
        None => "?",
        Some("") => "",
        Some(_) => "&",
    };
    cat(&[head, sep, name, "=", value, frag])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(s: &str) -> Origin {
        parse(s).unwrap().origin
    }

    #[test]
    fn parses_and_normalises_origins() {
        let p = parse("HTTPS://ABC12345.Apps.Dynatrace.com:443/platform?x#y").unwrap();
        assert_eq!(p.origin.serialize(), "https://abc12345.apps.dynatrace.com");
        assert_eq!(p.rest, "/platform?x#y");
        assert_eq!(parse(" https://h.example\n").unwrap().rest, "/");
        assert_eq!(parse("https://h.example?q").unwrap().rest, "/?q");
        assert_eq!(
            origin("http://127.0.0.1:8090").serialize(),
            "http://127.0.0.1:8090"
        );
        assert_eq!(origin("http://[::1]:80/").serialize(), "http://[::1]");
    }

    #[test]
    fn refuses_ambiguous_urls() {
        assert_eq!(parse("ftp://x"), Err(UrlProblem::Scheme));
        assert_eq!(parse("https:x"), Err(UrlProblem::Scheme));
        assert_eq!(parse("https://u:p@host"), Err(UrlProblem::UserInfo));
        assert_eq!(parse("https://evil\\@good"), Err(UrlProblem::Malformed));
        assert_eq!(parse("https://exämple.com"), Err(UrlProblem::Host));
        assert_eq!(parse("https://%65vil.com"), Err(UrlProblem::Host));
        assert_eq!(parse("https://h:99999"), Err(UrlProblem::Port));
        assert_eq!(parse("https://h:8a"), Err(UrlProblem::Port));
        assert_eq!(parse("https://"), Err(UrlProblem::Host));
        assert_eq!(parse("https://a b"), Err(UrlProblem::Malformed));
    }

    #[test]
    fn loopback_and_insecure_http() {
        for h in [
            "http://localhost:1",
            "http://127.0.0.1",
            "http://127.9.8.7:5",
            "http://[::1]:3",
            "http://app.localhost",
        ] {
            assert!(origin(h).is_loopback(), "{h}");
        }
        for h in [
            "http://127.0.0.1.evil.com",
            "http://128.0.0.1",
            "http://localhost.evil.com",
            "http://0x7f.1",
        ] {
            assert!(!origin(h).is_loopback(), "{h}");
        }
        let e =
            parse_config_url("environmentUrl", "http://abc.apps.dynatrace.com", false).unwrap_err();
        assert_eq!(e.code, Code::InsecureUrl);
        assert!(parse_config_url("environmentUrl", "http://abc.apps.dynatrace.com", true).is_ok());
        assert_eq!(
            parse_config_url("controllerUrl", "acme.saas.appdynamics.com", false)
                .unwrap_err()
                .code,
            Code::InvalidConfig
        );
    }

    #[test]
    fn resolve_keeps_the_origin() {
        let base = origin("https://abc.apps.dynatrace.com");
        assert_eq!(
            resolve(&base, "/platform/x?y=1").unwrap(),
            "https://abc.apps.dynatrace.com/platform/x?y=1"
        );
        assert_eq!(
            resolve(&base, "platform/x").unwrap(),
            "https://abc.apps.dynatrace.com/platform/x"
        );
        assert_eq!(
            resolve(&base, "https://ABC.apps.dynatrace.com:443/p").unwrap(),
            "https://abc.apps.dynatrace.com/p"
        );
        assert_eq!(
            resolve(&base, "/@evil.com").unwrap(),
            "https://abc.apps.dynatrace.com/@evil.com"
        );
        for other in [
            "https://evil.com/p",
            "http://abc.apps.dynatrace.com/p",
            "https://abc.apps.dynatrace.com:8443/",
            "//evil.com/x",
            "/\\evil.com",
            "\\\\evil.com",
            "javascript:alert(1)",
            "data:text/plain,x",
        ] {
            assert_eq!(
                resolve(&base, other).unwrap_err().code,
                Code::InsecureUrl,
                "{other}"
            );
        }
        assert_eq!(resolve(&base, "").unwrap_err().code, Code::InvalidArgument);
        assert_eq!(
            resolve(&base, "/a\nb").unwrap_err().code,
            Code::InvalidArgument
        );
        assert_eq!(
            resolve(&base, "https://u@abc.apps.dynatrace.com/")
                .unwrap_err()
                .code,
            Code::InvalidArgument
        );
    }

    #[test]
    fn query_params() {
        assert_eq!(
            ensure_query_param("https://c/controller/rest/applications", "output", "JSON"),
            "https://c/controller/rest/applications?output=JSON"
        );
        assert_eq!(
            ensure_query_param("https://c/r?a=1#f", "output", "JSON"),
            "https://c/r?a=1&output=JSON#f"
        );
        assert_eq!(
            ensure_query_param("https://c/r?", "output", "JSON"),
            "https://c/r?output=JSON"
        );
        assert_eq!(
            ensure_query_param("https://c/r?output=XML", "output", "JSON"),
            "https://c/r?output=XML"
        );
    }
}
