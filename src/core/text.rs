//! Small text helpers that keep `core::fmt` out of the hot paths of the wasm build.

#[allow(unused_imports)]
use crate::core::prelude::*;

/// Appends the decimal form of `n`.
pub fn push_u64(out: &mut String, n: u64) {
    let mut div = 1;
    while n / div >= 10 {
        div *= 10;
    }
    while div > 0 {
        out.push(char::from(b'0' + (n / div % 10) as u8));
        div /= 10;
    }
}

/// `x` rounded down, for the finite values the core handles (|x| < 2^63): `f64::floor` is std's.
pub fn floor(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t > x {
        t - 1.0
    } else {
        t
    }
}

/// `x` rounded up (see [`floor`]).
pub fn ceil(x: f64) -> f64 {
    -floor(-x)
}

/// The decimal form of `n`.
pub fn u64_str(n: u64) -> String {
    let mut s = String::new();
    push_u64(&mut s, n);
    s
}

/// Concatenates parts into one string.
pub fn cat(parts: &[&str]) -> String {
    let mut s = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        s.push_str(p);
    }
    s
}

/// A short, printable quote of a server's non-JSON body for an error message: HTML reduced to its
/// `<title>` or text, whitespace folded, anything that looks like a credential (a long run of
/// token characters) replaced by `[redacted]`, and cut to `max` characters.
pub fn snippet(body: &str, max: usize) -> String {
    let text = if looks_like_html(body) {
        html_title(body).unwrap_or_else(|| strip_tags(body))
    } else {
        body.to_string()
    };
    let mut out = String::new();
    let mut run = String::new();
    let mut last_space = true;
    let flush = |run: &mut String, out: &mut String| {
        if char_count(run) >= 24 {
            out.push_str("[redacted]");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '+' | '/' | '=' | '-') {
            run.push(c);
            last_space = false;
            continue;
        }
        flush(&mut run, &mut out);
        if c.is_whitespace() || c.is_control() {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
    flush(&mut run, &mut out);
    let trimmed = out.trim();
    if char_count(trimmed) > max {
        let mut cut: String = trimmed.chars().take(max).collect();
        cut.push('…');
        cut
    } else {
        trimmed.to_string()
    }
}

/// The number of characters of `s` (its bytes that do not continue a UTF-8 sequence), without
/// core's `chars().count()`, whose unrolled version costs ~1 KB of wasm.
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|b| b & 0xC0 != 0x80).count()
}

/// True when the body starts like an HTML document.
pub fn looks_like_html(body: &str) -> bool {
    let t = body.trim_start().as_bytes();
    let n = t.len().min(14);
    let head = t.get(..n).unwrap_or_default().to_ascii_lowercase();
    head.starts_with(b"<!doctype")
        || head.starts_with(b"<html")
        || head.starts_with(b"<head")
        || head.starts_with(b"<body")
}

fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = find(&lower, "<title")?;
    let open_end = start + find(lower.get(start..)?, ">")? + 1;
    let close = open_end + find(lower.get(open_end..)?, "</title")?;
    let t = body.get(open_end..close)?.trim();
    if t.is_empty() {
        None
    } else {
        Some(t.to_string())
    }
}

fn strip_tags(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Lower-cases ASCII and compares.
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// A JSON-style decimal (`-12`, `3.5`, `1e3`) as f64, without core's correctly rounded `f64`
/// parser, whose tables cost ~17 KB of wasm (~15 KB gzipped). Exact for integers up to 2^53;
/// otherwise close but not correctly rounded (tens of ulps near the exponent limits), plenty
/// for lifetimes, seconds and ids.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg || b.first() == Some(&b'+') {
        i += 1;
    }
    let (mut mant, mut exp, mut digits, mut frac) = (0u64, 0i32, 0, false);
    // Zeros after the decimal point count only when a non-zero digit follows: "300.0" is the
    // integer 300, whose mantissa must stay exact.
    let mut zeros = 0i32;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() {
            digits += 1;
            if frac && c == b'0' {
                zeros += 1;
            } else if mant < 100_000_000_000_000_000 {
                while zeros > 0 && mant < 100_000_000_000_000_000 {
                    mant *= 10;
                    exp -= 1;
                    zeros -= 1;
                }
                mant = mant * 10 + u64::from(c - b'0');
                if frac {
                    exp -= 1;
                }
            } else if !frac {
                exp += 1;
            }
        } else if c == b'.' && !frac {
            frac = true;
        } else {
            break;
        }
        i += 1;
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if eneg || b.get(i) == Some(&b'+') {
            i += 1;
        }
        let start = i;
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add(i32::from(b[i] - b'0'));
            i += 1;
        }
        if i == start {
            return None;
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    if i != b.len() {
        return None;
    }
    // Clinger's fast path: an exact mantissa and one exact power of ten (up to 1e22) give the
    // correctly rounded result; beyond that, repeated steps are close enough here.
    let mut v = mant as f64;
    while exp > 0 && v.is_finite() {
        let step = exp.min(22);
        v *= pow10(step);
        exp -= step;
    }
    while exp < 0 && v != 0.0 {
        let step = (-exp).min(22);
        v /= pow10(step);
        exp += step;
    }
    Some(if neg { -v } else { v })
}

fn pow10(n: i32) -> f64 {
    let mut p = 1.0;
    for _ in 0..n {
        p *= 10.0;
    }
    p
}

/// Byte offset of `needle` in `hay`: a plain search, instead of core's two-way `StrSearcher`
/// (~2.3 KB of wasm) that `str::find(&str)`, `contains(&str)`, `replace` and
/// `split_once(&str)` pull in. Inputs here are short (messages, header values).
pub fn find(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    if n.is_empty() {
        return Some(0);
    }
    h.windows(n.len()).position(|w| w == n)
}

/// Whether `needle` occurs in `hay` (see [`find`]).
pub fn contains(hay: &str, needle: &str) -> bool {
    find(hay, needle).is_some()
}

/// `s.replace(from, to)` with [`find`]; `from` must not be empty.
pub fn replace(s: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // `get` rather than indexing: a match of a valid UTF-8 needle is always on char boundaries,
    // and `get` keeps the panic and formatting machinery of `str` indexing out of the wasm.
    while let Some(i) = find(rest, from).filter(|_| !from.is_empty()) {
        out.push_str(rest.get(..i).unwrap_or_default());
        out.push_str(to);
        rest = rest.get(i + from.len()..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_without_core_float_parsing() {
        assert_eq!(parse_f64("300"), Some(300.0));
        assert_eq!(parse_f64("-1.5e2"), Some(-150.0));
        assert_eq!(parse_f64("0.25"), Some(0.25));
        assert_eq!(parse_f64("9007199254740993"), Some(9007199254740992.0));
        assert_eq!(parse_f64("-8183599800422751.0"), Some(-8183599800422751.0));
        assert_eq!(parse_f64("300.000"), Some(300.0));
        assert_eq!(parse_f64("0.1"), Some(0.1));
        assert_eq!(parse_f64("1.05"), Some(1.05));
        assert_eq!(parse_f64("12.9"), Some(12.9));
        assert_eq!(parse_f64("1e400"), Some(f64::INFINITY));
        for bad in [
            "", "-", ".", "1e", "1e+", "abc", "1.2.3", "300s", "inf", "NaN",
        ] {
            assert_eq!(parse_f64(bad), None, "{bad}");
        }
    }

    #[test]
    fn numbers() {
        assert_eq!(u64_str(0), "0");
        assert_eq!(u64_str(429), "429");
        assert_eq!(u64_str(u64::MAX), "18446744073709551615");
    }

    #[test]
    fn snippet_takes_html_title_and_redacts_tokens() {
        let html = "<!DOCTYPE html><html><head><title>Dynatrace  Login</title></head><body>x</body></html>";
        assert_eq!(snippet(html, 80), "Dynatrace Login");
        assert_eq!(
            snippet(
                "denied for eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln now",
                80
            ),
            "denied for [redacted] now"
        );
        assert_eq!(
            snippet("Invalid Content Type\n", 80),
            "Invalid Content Type"
        );
        assert_eq!(snippet("abcdef", 3), "abc…");
        assert_eq!(
            snippet("<html><body><p>Bad</p>\n<p>Gateway</p></body></html>", 80),
            "Bad Gateway"
        );
    }
}
