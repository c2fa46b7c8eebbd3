//! `application/x-www-form-urlencoded`, percent-encoding of path segments and base64: the few
//! encodings a token request needs, with exact bytes pinned by tests.

#[allow(unused_imports)]
use crate::core::prelude::*;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_pct(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

/// Encodes one name or value as the WHATWG URL standard's `application/x-www-form-urlencoded`
/// serializer does (what `URLSearchParams` produces): `*-._` and ASCII alphanumerics stay, space
/// becomes `+`, every other byte of the UTF-8 form becomes `%XX`.
pub fn form_component(s: &str, out: &mut String) {
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => push_pct(out, b),
        }
    }
}

/// Serializes name/value pairs in order as a form body.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        form_component(k, &mut out);
        out.push('=');
        form_component(v, &mut out);
    }
    out
}

/// Percent-encodes one URL path segment: RFC 3986 unreserved characters stay, everything else
/// (including `/`, `?`, `#` and `%`) is encoded, so an app id or function name can never change
/// the path it is put into.
pub fn path_segment(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => push_pct(&mut out, b),
        }
    }
    out
}

/// Percent-encodes as JavaScript's `encodeURIComponent` does (which also leaves `!'()*`).
pub fn uri_component(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'!'
            | b'\''
            | b'('
            | b')'
            | b'*' => out.push(b as char),
            _ => push_pct(&mut out, b),
        }
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(B64[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `Authorization: Basic` value for client credentials, RFC 6749 §2.3.1: the client id and
/// secret are each form-urlencoded first, then joined by `:` and base64-encoded. (Many clients skip
/// the first step and break on secrets with `:`, `%`, `+` or non-ASCII characters.)
pub fn basic_client_auth(client_id: &str, secret: &str) -> String {
    let mut pair = String::new();
    form_component(client_id, &mut pair);
    pair.push(':');
    form_component(secret, &mut pair);
    let mut v = String::from("Basic ");
    v.push_str(&base64(pair.as_bytes()));
    v
}

/// The `Authorization: Basic` value as AppDynamics controllers before 4.5.9 expect it, like
/// `curl -u 'name@account:secret'`: the raw pair, base64-encoded, with no form-encoding.
pub fn basic_raw(user: &str, password: &str) -> String {
    let mut pair = String::from(user);
    pair.push(':');
    pair.push_str(password);
    let mut v = String::from("Basic ");
    v.push_str(&base64(pair.as_bytes()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_urlsearchparams() {
        // new URLSearchParams({a: "x y+z", b: "ä/:%*-._~!"}).toString()
        assert_eq!(
            form_encode(&[("a", "x y+z"), ("b", "ä/:%*-._~!")]),
            "a=x+y%2Bz&b=%C3%A4%2F%3A%25*-._%7E%21"
        );
        assert_eq!(
            form_encode(&[("scope", "app-engine:apps:run storage:logs:read")]),
            "scope=app-engine%3Aapps%3Arun+storage%3Alogs%3Aread"
        );
        assert_eq!(form_encode(&[]), "");
    }

    #[test]
    fn base64_encoding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn basic_auth_follows_rfc6749_2_3_1() {
        // id "my client", secret "p:a%s+s w/ö" → "my+client:p%3Aa%25s%2Bs+w%2F%C3%B6"
        assert_eq!(
            basic_client_auth("my client", "p:a%s+s w/ö"),
            "Basic bXkrY2xpZW50OnAlM0FhJTI1cyUyQnMrdyUyRiVDMyVCNg=="
        );
        assert_eq!(
            basic_raw("TestApiClient@customer1", "face10d5"),
            "Basic VGVzdEFwaUNsaWVudEBjdXN0b21lcjE6ZmFjZTEwZDU="
        );
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("my.app"), "my.app");
        assert_eq!(path_segment("../x?y#z"), "..%2Fx%3Fy%23z");
        assert_eq!(uri_component("a b!'()*~/ü"), "a%20b!'()*~%2F%C3%BC");
    }
}
