//! Text helpers for error messages: what a message may quote of a server's answer, and numbers
//! in decimal.

/// `n` in decimal digits, as `n.to_string()` writes it (a property test checks). Every number the
/// crate writes into a text is an integer (a status, a port, seconds, milliseconds); `to_string`
/// brings `core::fmt`'s machinery for them, 742 bytes of the gzipped browser build, and the `itoa`
/// crate 333 bytes more than this loop (docs/size.md).
pub fn decimal(n: u64) -> String {
    let mut n = n;
    let mut out = String::new();
    loop {
        out.insert(0, char::from(b'0' + (n % 10) as u8));
        n /= 10;
        if n == 0 {
            return out;
        }
    }
}

/// A short, printable quote of a server's non-JSON body for an error message: HTML reduced to its
/// `<title>` or text, whitespace folded, anything that looks like a credential (a long run of
/// token characters with letters and digits, as `looks_secret` decides) replaced by `[redacted]`, and
/// cut to `max` characters.
pub fn snippet(body: &str, max: usize) -> String {
    let text = if looks_like_html(body) {
        html_title(body).unwrap_or_else(|| strip_tags(body))
    } else {
        body.to_string()
    };
    let mut out = String::new();
    let mut run = String::new();
    let mut last_space = true;
    // A run is ASCII: its length is its count of characters.
    let flush = |run: &mut String, out: &mut String| {
        if looks_secret(run) {
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
    let trimmed = trim(&out);
    let mut cut = prefix(trimmed, max).to_string();
    if cut.len() < trimmed.len() {
        cut.push('…');
    }
    cut
}

/// " (error: description)", as a message quotes a server's OAuth fields (each shortened by
/// [`snippet`]).
pub fn fields_quote(error: &str, description: Option<&str>) -> String {
    let mut out = [" (", &snippet(error, 40)].concat();
    if let Some(d) = description {
        out.push_str(": ");
        out.push_str(&snippet(d, 200));
    }
    out.push(')');
    out
}

/// Whether a run of token characters looks like a credential (a token, a key, a JWT) that a
/// message must not quote even though the client does not know it: 24 characters or more, with
/// both letters and digits, and no UUID (servers name accounts and requests by UUID; a secret the
/// client holds, such as an AppDynamics API client's UUID secret, is scrubbed by its value). A
/// server's code word (`UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED`) is quoted.
fn looks_secret(run: &str) -> bool {
    let b = run.as_bytes();
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    b.len() >= 24
        && !uuid
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().any(u8::is_ascii_alphabetic)
}

/// The first `n` characters of `text` (all of it when it is shorter).
pub fn prefix(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((i, _)) => text.get(..i).unwrap_or(text),
        None => text,
    }
}

/// Whether `text` contains `part`: `str::contains` by the searcher that `find` and `replace` use
/// too (`contains` brings a second one into the wasm).
pub fn contains(text: &str, part: &str) -> bool {
    text.matches(part).next().is_some()
}

/// The number of characters of `s`, the unit in which messages are bounded.
pub fn char_count(s: &str) -> usize {
    // Every character has exactly one byte that is not a continuation byte (0b10xxxxxx).
    s.bytes().filter(|&b| (b as i8) >= -0x40).count()
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
    let start = lower.find("<title")?;
    let open_end = start + find_byte(lower.get(start..)?, b'>')? + 1;
    let close = open_end + lower.get(open_end..)?.find("</title")?;
    let t = trim(body.get(open_end..close)?);
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

/// `s` without the leading and trailing characters `space` matches (one copy of the trimming
/// loop for every rule: a closure each was a copy each).
pub fn trim_by(s: &str, space: fn(char) -> bool) -> &str {
    s.trim_matches(space)
}

/// `str::trim` (Unicode white space) through [`trim_by`].
pub fn trim(s: &str) -> &str {
    trim_by(s, char::is_whitespace)
}

/// `s` without its leading `/`s.
pub fn skip_slashes(s: &str) -> &str {
    skip_by(s, |b| b == b'/')
}

/// `s` without the leading bytes `skip` matches (an ASCII rule: `trim_start_matches` brought a
/// char searcher per rule).
pub fn skip_by(s: &str, skip: fn(u8) -> bool) -> &str {
    let n = s.bytes().take_while(|&b| skip(b)).count();
    s.get(n..).unwrap_or_default()
}

/// Where the first byte of `s` that `stop` matches is (an ASCII rule).
pub fn position_by(s: &str, stop: fn(u8) -> bool) -> Option<usize> {
    s.bytes().position(stop)
}

/// Whether every byte of `s` passes `ok` (one copy of the loop for every rule: a closure each was
/// a copy each).
pub fn all_bytes(s: &str, ok: fn(u8) -> bool) -> bool {
    s.bytes().all(ok)
}

/// Where the ASCII byte `b` first is in `s`. A plain loop for every search of one character
/// (`find(char)` and `split(char)` brought `memchr` and the char searcher).
pub fn find_byte(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|x| x == b)
}

/// `s` cut at its first `b` (an ASCII byte): the part before, and the rest after it when there
/// is one.
pub fn cut_at(s: &str, b: u8) -> (&str, Option<&str>) {
    match find_byte(s, b) {
        Some(i) => (s.get(..i).unwrap_or_default(), s.get(i + 1..)),
        None => (s, None),
    }
}

/// `s` without the ASCII byte `b` repeated at its end (`trim_end_matches(char)` brought the char
/// searcher).
pub fn trim_end_byte(s: &str, b: u8) -> &str {
    let n = s.len() - s.bytes().rev().take_while(|&x| x == b).count();
    s.get(..n).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // What only looks long is quoted: a server's code word, an account's UUID.
        let d = "Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED | The requested resource \"urn:dtaccount:11111111-1111-4111-8111-111111111111\" is not valid";
        assert_eq!(snippet(d, 300), d);
        for secret in [
            "dt0s02.ABCDEFGHIJKLMNOPQRSTUVWX",
            "a1b2c3d4e5f6a7b8c9d0e1f2",
            "1111111a-1111-4111-8111-1111111111112",
            "face10d5_573e_4a75_8396_afa006fd8f19",
        ] {
            assert_eq!(
                snippet(&["x ", secret, " y"].concat(), 80),
                "x [redacted] y"
            );
        }
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

    #[test]
    fn prefix_is_the_first_characters() {
        for text in ["", "a", "abc", "é€😀x", "aé", "😀"] {
            for n in 0..6 {
                let taken: String = text.chars().take(n).collect();
                assert_eq!(prefix(text, n), taken, "{text:?} {n}");
            }
        }
    }
}
