//! `application/x-www-form-urlencoded`, percent-encoding of path segments and the credentials of
//! HTTP Basic: the few encodings a token request needs, with exact bytes pinned by tests. (Base64
//! is the platform's: the client layer encodes the Basic credentials with it.)

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn push_pct(out: &mut String, b: u8) {
    out.push('%');
    out.push(HEX[(b >> 4) as usize] as char);
    out.push(HEX[(b & 15) as usize] as char);
}

/// `s` percent-encoded into `out`: ASCII alphanumerics and the bytes of `keep` stay, a space
/// becomes `+` in a `form`, every other byte of the UTF-8 form becomes `%XX`.
// (`any`, not `contains`, which brought `memchr` into the wasm for these few bytes.)
#[allow(clippy::manual_contains)]
fn encode_into(s: &str, keep: &[u8], form: bool, out: &mut String) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || keep.iter().any(|&k| k == b) {
            out.push(b as char);
        } else if form && b == b' ' {
            out.push('+');
        } else {
            push_pct(out, b);
        }
    }
}

/// Encodes one name or value as the WHATWG URL standard's `application/x-www-form-urlencoded`
/// serializer does (what `URLSearchParams` produces): `*-._` and ASCII alphanumerics stay, space
/// becomes `+`, every other byte of the UTF-8 form becomes `%XX`.
pub fn form_component(s: &str, out: &mut String) {
    encode_into(s, b"*-._", true, out);
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
    encode_into(s, b"-._~", false, &mut out);
    out
}

/// Percent-encodes as JavaScript's `encodeURIComponent` does (which also leaves `!'()*`).
pub fn uri_component(s: &str) -> String {
    let mut out = String::new();
    encode_into(s, b"-._~!'()*", false, &mut out);
    out
}

/// The credentials of an `Authorization: Basic` header for a client, RFC 6749 §2.3.1: the client
/// id and secret are each form-urlencoded first, then joined by `:`. (Many clients skip the first
/// step and break on secrets with `:`, `%`, `+` or non-ASCII characters.) The client layer
/// base64-encodes the result with the platform's encoder.
pub fn basic_client_auth(client_id: &str, secret: &str) -> String {
    let mut pair = String::new();
    form_component(client_id, &mut pair);
    pair.push(':');
    form_component(secret, &mut pair);
    pair
}

/// The credentials of an `Authorization: Basic` header as AppDynamics controllers before 4.5.9
/// expect them, like `curl -u 'name@account:secret'`: the raw pair, with no form-encoding.
pub fn basic_raw(user: &str, password: &str) -> String {
    [user, ":", password].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

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
    fn basic_auth_follows_rfc6749_2_3_1() {
        // id "my client", secret "p:a%s+s w/ö" → "my+client:p%3Aa%25s%2Bs+w%2F%C3%B6"
        let pair = basic_client_auth("my client", "p:a%s+s w/ö");
        assert_eq!(pair, "my+client:p%3Aa%25s%2Bs+w%2F%C3%B6");
        assert_eq!(
            STANDARD.encode(pair),
            "bXkrY2xpZW50OnAlM0FhJTI1cyUyQnMrdyUyRiVDMyVCNg=="
        );
        let raw = basic_raw("TestApiClient@customer1", "face10d5");
        assert_eq!(raw, "TestApiClient@customer1:face10d5");
        assert_eq!(
            STANDARD.encode(raw),
            "VGVzdEFwaUNsaWVudEBjdXN0b21lcjE6ZmFjZTEwZDU="
        );
    }

    #[test]
    fn path_segments_cannot_escape() {
        assert_eq!(path_segment("my.app"), "my.app");
        assert_eq!(path_segment("../x?y#z"), "..%2Fx%3Fy%23z");
        assert_eq!(uri_component("a b!'()*~/ü"), "a%20b!'()*~%2F%C3%BC");
    }
}
