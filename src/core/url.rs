//! URLs by strict string rules. Anything a WHATWG parser could read differently (user info,
//! backslashes, control characters, non-ASCII or percent-encoded hosts) is refused rather than
//! interpreted, and a resolved URL is always built as origin + path, so no input can move it to
//! another host. Also the format of `Retry-After` and the suggestion for a mistyped option name.

use super::error::{Code, Error};
use super::text::{contains, cut_at, find_byte};

/// A URL's origin, normalised as `URL.origin` is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// `"https"` or `"http"`.
    pub scheme: String,
    /// Lower-case; an IPv6 address in brackets.
    pub host: String,
    /// The port, `None` when it is the scheme's default.
    pub port: Option<String>,
}

impl Origin {
    /// `scheme://host[:port]`.
    pub fn serialize(&self) -> String {
        let mut s = [&self.scheme, "://", &self.host].concat();
        if let Some(p) = &self.port {
            s.push(':');
            s.push_str(p);
        }
        s
    }
}

/// Why a URL is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlProblem {
    /// Not `https://` or `http://`.
    Scheme,
    /// Empty, or with spaces, control characters or backslashes.
    Malformed,
    /// With a user name or password.
    Userinfo,
    /// With an empty or non-plain host.
    Host,
    /// With a port that is not a number up to 65535.
    Port,
}

impl UrlProblem {
    /// The problem as a message says it.
    pub fn describe(self) -> &'static str {
        match self {
            UrlProblem::Scheme => "it must start with https:// (or http:// for a loopback host)",
            UrlProblem::Malformed => "it is empty or has spaces, control characters or backslashes",
            UrlProblem::Userinfo => "it must not carry a user name or password (user@host); give credentials as options",
            UrlProblem::Host => "its host is empty or not a plain ASCII host name (use the xn-- form for international names)",
            UrlProblem::Port => "its port is not a number from 0 to 65535",
        }
    }
}

/// An absolute URL taken apart: its origin and everything after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedUrl {
    /// The origin.
    pub origin: Origin,
    /// Path, query and fragment as given; always starts with `/`.
    pub rest: String,
}

impl ParsedUrl {
    /// The URL as it is used: the normalised origin, then the rest as given.
    pub fn href(&self) -> String {
        self.origin.serialize() + &self.rest
    }
}

/// C0 and C1 controls and DEL, which a WHATWG parser strips or encodes.
fn is_control(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

fn has_control(s: &str) -> bool {
    s.chars().any(is_control)
}

/// Starts with a scheme and its colon (`/^[A-Za-z][A-Za-z0-9+.-]*:/`).
fn has_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) {
        return false;
    }
    for c in chars {
        if c == ':' {
            return true;
        }
        if !(c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-')) {
            return false;
        }
    }
    false
}

/// Parses an absolute `https://` or `http://` URL, or says what is wrong with it. Leading and
/// trailing ASCII whitespace is ignored, as a WHATWG parser ignores it.
pub fn parse_url(input: &str) -> Result<ParsedUrl, UrlProblem> {
    let s = super::text::trim_by(input, |c| matches!(c, '\t' | '\n' | '\u{c}' | '\r' | ' '));
    if s.is_empty() || s.chars().any(|c| is_control(c) || c == ' ' || c == '\\') {
        return Err(UrlProblem::Malformed);
    }
    let (scheme, after) = match cut_at(s, b':') {
        (scheme, Some(after)) if has_scheme(s) => (scheme.to_ascii_lowercase(), after),
        _ => return Err(UrlProblem::Scheme),
    };
    let after = match after.strip_prefix("//") {
        Some(after) if scheme == "https" || scheme == "http" => after,
        _ => return Err(UrlProblem::Scheme),
    };
    let (authority, tail) = after.split_at(
        after
            .bytes()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len()),
    );
    if find_byte(authority, b'@').is_some() {
        return Err(UrlProblem::Userinfo);
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (addr, Some(tail)) = cut_at(inner, b']') else {
            return Err(UrlProblem::Host);
        };
        let port = match tail.strip_prefix(':') {
            Some(port) => port,
            None if tail.is_empty() => "",
            None => return Err(UrlProblem::Host),
        };
        if addr.is_empty()
            || !super::text::all_bytes(addr, |b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(UrlProblem::Host);
        }
        // The address in its brackets.
        (&authority[..addr.len() + 2], port)
    } else {
        // (The last `:` found by bytes: `rsplit_once` brought a reverse `memchr` for this one use.)
        let (host, port) = match authority.bytes().rposition(|b| b == b':') {
            Some(at) => (&authority[..at], &authority[at + 1..]),
            None => (authority, ""),
        };
        if host.is_empty()
            || host.starts_with('.')
            || contains(host, "..")
            || !super::text::all_bytes(host, |b| {
                b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')
            })
        {
            return Err(UrlProblem::Host);
        }
        (host, port)
    };
    let port = if port.is_empty() {
        None
    } else {
        if port.len() > 5 || !super::text::all_bytes(port, |b| b.is_ascii_digit()) {
            return Err(UrlProblem::Port);
        }
        let n = port.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'));
        if n > 65535 {
            return Err(UrlProblem::Port);
        }
        let default = if scheme == "https" { 443 } else { 80 };
        (n != default).then(|| super::text::decimal(n.into()))
    };
    let sep = if tail.starts_with('/') { "" } else { "/" };
    Ok(ParsedUrl {
        origin: Origin {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
        },
        rest: [sep, tail].concat(),
    })
}

/// `localhost`, `*.localhost`, `127.0.0.0/8` or `[::1]`: hosts that never leave the machine.
pub fn is_loopback(host: &str) -> bool {
    if host == "localhost" || host.ends_with(".localhost") || host == "[::1]" {
        return true;
    }
    let mut parts = 0;
    host.starts_with("127.")
        && {
            let mut rest = Some(host);
            let mut ok = true;
            while let Some(r) = rest {
                let (p, next) = cut_at(r, b'.');
                parts += 1;
                ok = ok
                    && (1..=3).contains(&p.len())
                    && super::text::all_bytes(p, |b| b.is_ascii_digit())
                    && p.parse::<u16>().is_ok_and(|n| n <= 255);
                rest = next;
            }
            ok
        }
        && parts == 4
}

/// A configured URL (`what` names its option), checked: plain `http://` only to a loopback host
/// unless `allow_insecure_http`, because credentials and tokens would travel unencrypted.
pub fn config_url(what: &str, input: &str, allow_insecure_http: bool) -> Result<ParsedUrl, Error> {
    let p = parse_url(input).map_err(|problem| {
        Error::new(
            Code::InvalidConfig,
            [what, " is not a valid URL: ", problem.describe()].concat(),
        )
    })?;
    if p.origin.scheme == "http" && !is_loopback(&p.origin.host) && !allow_insecure_http {
        return Err(Error::new(
            Code::InsecureUrl,
            [
                what,
                " uses http:// to ",
                &p.origin.host,
                ": credentials and tokens would travel unencrypted",
            ]
            .concat(),
        )
        .hint("use https://, or set allowInsecureHttp: true for a trusted network"));
    }
    Ok(p)
}

fn another_origin(base: &Origin, other: Option<&Origin>) -> Error {
    let mut message = String::from("refusing to send the token to another origin");
    if let Some(o) = other {
        message.push_str(&[" (", &o.serialize(), ")"].concat());
    }
    Error::new(Code::InsecureUrl, message).hint(
        [
            "this client only calls ",
            &base.serialize(),
            "; use plain fetch for other hosts",
        ]
        .concat(),
    )
}

/// A caller's path or URL on `base`, or an error when it is empty, malformed or on another
/// origin: the token must never go anywhere else.
pub fn resolve_url(base: &Origin, input: &str) -> Result<String, Error> {
    // (Blanks alone would resolve to the origin's root, as an empty path would.)
    if super::text::trim(input).is_empty() {
        return Err(Error::new(Code::InvalidArgument, "the path is empty").hint(
            "pass the API's path, e.g. /platform/management/v1/environment (Dynatrace) or /controller/rest/applications (AppDynamics)",
        ));
    }
    if has_control(input) {
        return Err(Error::new(
            Code::InvalidArgument,
            "the path has control characters",
        ));
    }
    let b = input.as_bytes();
    let slash = |c: u8| c == b'/' || c == b'\\';
    if b[0] == b'\\' || (b.len() >= 2 && slash(b[0]) && slash(b[1])) {
        return Err(another_origin(base, None));
    }
    if has_scheme(input) {
        let p = match parse_url(input) {
            Ok(p) => p,
            Err(UrlProblem::Scheme) => return Err(another_origin(base, None)),
            Err(problem) => {
                return Err(Error::new(
                    Code::InvalidArgument,
                    ["the URL is not valid: ", problem.describe()].concat(),
                ))
            }
        };
        if p.origin != *base {
            return Err(another_origin(base, Some(&p.origin)));
        }
        return Ok(base.serialize() + &p.rest);
    }
    let mut url = base.serialize();
    if !input.starts_with('/') {
        url.push('/');
    }
    url.push_str(input);
    Ok(url)
}

/// `url` with `name=value` in its query unless a `name` is already there.
pub fn ensure_query_param(url: &str, name: &str, value: &str) -> String {
    let cut = find_byte(url, b'#').unwrap_or(url.len());
    let (head, frag) = (url.get(..cut).unwrap_or(url), url.get(cut..).unwrap_or(""));
    let query = find_byte(head, b'?').map(|q| head.get(q + 1..).unwrap_or(""));
    if let Some(query) = query {
        let mut rest = Some(query);
        while let Some(r) = rest {
            let (kv, next) = cut_at(r, b'&');
            if cut_at(kv, b'=').0 == name {
                return url.to_string();
            }
            rest = next;
        }
    }
    let sep = match query {
        None => "?",
        Some("") => "",
        Some(_) => "&",
    };
    [head, sep, name, "=", value, frag].concat()
}

/// What a `Retry-After` header value says.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RetryAfter {
    /// Delay-seconds.
    Seconds(f64),
    /// An IMF-fixdate, for the platform's date parser (which still refuses impossible dates).
    HttpDate,
    /// Anything else, which is ignored.
    Invalid,
}

/// White space as JavaScript's `String.prototype.trim` removes it.
fn is_js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` by shape: `[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4}
/// \d\d:\d\d:\d\d GMT`.
fn is_imf_fixdate(v: &str) -> bool {
    let shape = b"Aaa, 00 Aaa 0000 00:00:00 GMT";
    v.len() == shape.len()
        && v.bytes().zip(shape.iter()).all(|(b, &s)| match s {
            b'A' => b.is_ascii_uppercase(),
            b'a' => b.is_ascii_lowercase(),
            b'0' => b.is_ascii_digit(),
            _ => b == s,
        })
}

/// Reads a `Retry-After` value (RFC 9110 §10.2.3): delay-seconds or an IMF-fixdate; the
/// obsolete date forms and anything else are ignored.
pub fn retry_after(value: &str) -> RetryAfter {
    let v = super::text::trim_by(value, is_js_space);
    if !v.is_empty() && super::text::all_bytes(v, |b| b.is_ascii_digit()) {
        // Too many digits for a u64 is longer than any wait honoured.
        RetryAfter::Seconds(v.parse::<u64>().map_or(f64::INFINITY, |n| n as f64))
    } else if is_imf_fixdate(v) {
        RetryAfter::HttpDate
    } else {
        RetryAfter::Invalid
    }
}

/// An option name compared loosely: without `_` and `-`, lower-case, without trailing `s`.
fn normalise(s: &str) -> String {
    let n: String = s.chars().filter(|&c| c != '_' && c != '-').collect();
    super::text::trim_end_byte(&n.to_ascii_lowercase(), b's').to_string()
}

/// Length as JavaScript counts it (UTF-16 units).
fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// The known name closest to a mistyped one (`client_id` → `clientId`, `scopes` → `scope`): one
/// that reads the same loosely, else one that contains it or is contained in it.
pub fn suggest(name: &str, known: &[&'static str]) -> Option<&'static str> {
    let n = normalise(name);
    if js_len(&n) < 3 {
        return None;
    }
    known
        .iter()
        .find(|k| normalise(k) == n)
        .or_else(|| {
            known.iter().find(|k| {
                let m = normalise(k);
                js_len(&m) >= 4 && (contains(&m, &n) || contains(&n, &m))
            })
        })
        // One letter off in a long name (`redirectUrl` for `redirectUri`).
        .or_else(|| {
            known
                .iter()
                .find(|k| js_len(&n) >= 6 && one_letter_off(&normalise(k), &n))
        })
        .copied()
}

/// Whether `a` and `b` differ by one changed, added or dropped byte. The known names are ASCII;
/// a slip that types a character outside ASCII gets no suggestion (its bytes differ by more).
fn one_letter_off(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let same_start = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    let rest = if short.len() == long.len() {
        same_start + 1
    } else {
        same_start
    };
    short.get(rest..) == long.get(same_start + 1..)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_letter_off_names_are_suggested() {
        let known = ["redirectUri", "tokenStore", "scope"];
        assert_eq!(suggest("redirectUrl", &known), Some("redirectUri"));
        assert_eq!(suggest("tokenStor", &known), Some("tokenStore"));
        assert_eq!(suggest("tokenStorex", &known), Some("tokenStore"));
        assert_eq!(
            suggest("scape", &known),
            None,
            "short names need a closer match"
        );
        assert_eq!(suggest("redirectXyz", &known), None);
    }

    fn origin(u: &str) -> Origin {
        parse_url(u).unwrap().origin
    }

    fn o(scheme: &str, host: &str, port: Option<&str>) -> Origin {
        Origin {
            scheme: scheme.into(),
            host: host.into(),
            port: port.map(str::to_string),
        }
    }

    fn code(r: Result<String, Error>) -> &'static str {
        match r {
            Ok(_) => "no error",
            Err(e) => e.code.as_str(),
        }
    }

    #[test]
    fn origins_are_normalised_like_url_origin_the_rest_kept() {
        assert_eq!(
            parse_url("HTTPS://ABC12345.Apps.Dynatrace.com:443/platform?x#y"),
            Ok(ParsedUrl {
                origin: o("https", "abc12345.apps.dynatrace.com", None),
                rest: "/platform?x#y".into()
            })
        );
        assert_eq!(parse_url(" https://h.example\n").unwrap().rest, "/");
        assert_eq!(parse_url("https://h.example?q").unwrap().rest, "/?q");
        assert_eq!(
            origin("http://127.0.0.1:8090"),
            o("http", "127.0.0.1", Some("8090"))
        );
        assert_eq!(origin("http://[::1]:80/"), o("http", "[::1]", None));
        assert_eq!(
            origin("https://h:0443").serialize(),
            "https://h",
            "a port is compared as a number"
        );
        assert_eq!(origin("https://h:").port, None);
    }

    #[test]
    fn anything_a_whatwg_parser_could_read_differently_is_refused() {
        use UrlProblem::*;
        for (input, problem) in [
            ("ftp://x", Scheme),
            ("https:x", Scheme),
            ("https://u:p@host", Userinfo),
            ("https://evil\\@good", Malformed),
            ("https://exämple.com", Host),
            ("https://%65vil.com", Host),
            ("https://h:99999", Port),
            ("https://h:8a", Port),
            ("https://", Host),
            ("https://a b", Malformed),
            ("", Malformed),
        ] {
            assert_eq!(parse_url(input), Err(problem), "{input}");
        }
        assert_eq!(parse_url("https://[::1"), Err(Host));
        assert_eq!(parse_url("https://[::1]x"), Err(Host));
        assert_eq!(parse_url("https://[]"), Err(Host));
        assert_eq!(parse_url("https://.h"), Err(Host));
        assert_eq!(parse_url("https://a..b"), Err(Host));
        assert_eq!(parse_url("https://h\u{85}"), Err(Malformed));
    }

    #[test]
    fn problems_read_as_the_messages_say_them() {
        assert_eq!(
            UrlProblem::Port.describe(),
            "its port is not a number from 0 to 65535"
        );
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "127.0.0.1",
            "127.9.8.7",
            "[::1]",
            "app.localhost",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "127.0.0.1.evil.com",
            "128.0.0.1",
            "localhost.evil.com",
            "0x7f.1",
            "127.0.0.256",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        let e = config_url("environmentUrl", "http://abc.apps.dynatrace.com", false).unwrap_err();
        assert_eq!(e.code, Code::InsecureUrl);
        assert_eq!(e.message, "environmentUrl uses http:// to abc.apps.dynatrace.com: credentials and tokens would travel unencrypted");
        assert_eq!(
            e.hint.as_deref(),
            Some("use https://, or set allowInsecureHttp: true for a trusted network")
        );
        assert!(config_url("environmentUrl", "http://abc.apps.dynatrace.com", true).is_ok());
        assert!(config_url("tokenUrl", "http://127.0.0.1:9/t", false).is_ok());
        let e = config_url("controllerUrl", "acme.saas.appdynamics.com", false).unwrap_err();
        assert_eq!(e.code, Code::InvalidConfig);
        assert_eq!(
            e.message,
            "controllerUrl is not a valid URL: it must start with https:// (or http:// for a loopback host)"
        );
        assert_eq!(e.hint, None);
    }

    #[test]
    fn a_callers_path_or_url_never_leaves_the_configured_origin() {
        let base = origin("https://abc.apps.dynatrace.com");
        assert_eq!(
            resolve_url(&base, "/platform/x?y=1").unwrap(),
            "https://abc.apps.dynatrace.com/platform/x?y=1"
        );
        assert_eq!(
            resolve_url(&base, "platform/x").unwrap(),
            "https://abc.apps.dynatrace.com/platform/x"
        );
        assert_eq!(
            resolve_url(&base, "https://ABC.apps.dynatrace.com:443/p").unwrap(),
            "https://abc.apps.dynatrace.com/p"
        );
        assert_eq!(
            resolve_url(&base, "/@evil.com").unwrap(),
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
            assert_eq!(code(resolve_url(&base, other)), "insecure_url", "{other}");
        }
        assert_eq!(code(resolve_url(&base, "")), "invalid_argument");
        assert_eq!(code(resolve_url(&base, "/a\nb")), "invalid_argument");
        assert_eq!(
            code(resolve_url(&base, "https://u@abc.apps.dynatrace.com/")),
            "invalid_argument"
        );
    }

    #[test]
    fn refusals_say_where_the_client_calls() {
        let base = origin("https://abc.apps.dynatrace.com");
        let e = resolve_url(&base, "https://evil.com:8443/p").unwrap_err();
        assert_eq!(
            e.message,
            "refusing to send the token to another origin (https://evil.com:8443)"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("this client only calls https://abc.apps.dynatrace.com; use plain fetch for other hosts")
        );
        let e = resolve_url(&base, "//evil.com").unwrap_err();
        assert_eq!(e.message, "refusing to send the token to another origin");
        for blank in ["", " ", "\t \n"] {
            let e = resolve_url(&base, blank).unwrap_err();
            assert_eq!(
                e.full_message(),
                "the path is empty. Pass the API's path, e.g. /platform/management/v1/environment (Dynatrace) or /controller/rest/applications (AppDynamics)"
            );
        }
        let e = resolve_url(&base, "/a\u{7f}").unwrap_err();
        assert_eq!(
            (e.message.as_str(), e.hint),
            ("the path has control characters", None)
        );
        let e = resolve_url(&base, "https://u@abc.apps.dynatrace.com/").unwrap_err();
        assert_eq!(e.message, "the URL is not valid: it must not carry a user name or password (user@host); give credentials as options");
    }

    #[test]
    fn appdynamics_rest_urls_get_output_json_unless_a_format_is_given() {
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

    #[test]
    fn unknown_option_names_get_a_suggestion() {
        assert_eq!(
            suggest("client_id", &["clientId", "clientSecret"]),
            Some("clientId")
        );
        assert_eq!(suggest("scopes", &["scope", "resource"]), Some("scope"));
        assert_eq!(suggest("timeout", &["timeoutMs"]), Some("timeoutMs"));
        assert_eq!(suggest("xyz", &["scope"]), None);
        assert_eq!(suggest("ss", &["s"]), None);
    }

    #[test]
    fn retry_after_is_delay_seconds_or_an_imf_fixdate() {
        assert_eq!(retry_after("3"), RetryAfter::Seconds(3.0));
        assert_eq!(retry_after(" 30\u{feff}"), RetryAfter::Seconds(30.0));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            RetryAfter::HttpDate
        );
        // The shape is right; the platform's date parser refuses the day.
        assert_eq!(
            retry_after("Sun, 32 Nov 1994 08:49:37 GMT"),
            RetryAfter::HttpDate
        );
        for bad in ["", "-1", "1.5", "soon", "Sun, 06 Nov 1994 08:49:37 UTC"] {
            assert_eq!(retry_after(bad), RetryAfter::Invalid, "{bad}");
        }
    }
}
