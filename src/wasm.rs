//! The wasm exports: synchronous functions over plain values, no IO. The JavaScript layer
//! (`pkg/src/client.js`) reads the options, calls fetch, keeps the cache and the request in flight,
//! and asks these functions for the protocol's bytes and decisions: the token request of an
//! attempt, what a token endpoint's answer means, when to retry, and how to scrub secrets from
//! any text an error quotes.

#[allow(unused_imports)]
use crate::core::prelude::*;

use crate::core::appdynamics::{self, Attempt, BasicChoice, ContentChoice, Mode};
use crate::core::config::{AuthMethod, Config, Vendor};
use crate::core::error::{scrub_text, secret_forms};
use crate::core::token::{self, Response};
use crate::core::{cache, oauth, retry, text, Error, Secret};
use wasm_bindgen::prelude::*;

fn attempt_of(bits: u8) -> Attempt {
    Attempt {
        vendor_type: bits & 1 != 0,
        basic: bits & 2 != 0,
    }
}

fn bits_of(a: Attempt) -> u8 {
    u8::from(a.vendor_type) | (u8::from(a.basic) << 1)
}

/// `mode` = content choice (0 auto, 1 form, 2 vendor) + 3 × Basic choice (0 auto, 1 on, 2 off).
fn mode_of(mode: u8) -> Mode {
    Mode {
        content: match mode % 3 {
            1 => ContentChoice::Form,
            2 => ContentChoice::Vendor,
            _ => ContentChoice::Auto,
        },
        basic: match mode / 3 {
            1 => BasicChoice::On,
            2 => BasicChoice::Off,
            _ => BasicChoice::Auto,
        },
    }
}

/// Every form in which the credentials of `secrets` (NUL-separated raw values: the client secret,
/// a static token, the current access token) may come back in a server's answer.
fn forms(client_id: &str, secrets: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in fields(secrets).into_iter().filter(|s| !s.is_empty()) {
        out.extend(secret_forms(client_id, s));
    }
    out
}

/// The NUL-separated fields of `s` (a plain byte split: NUL is never inside a UTF-8 sequence).
fn fields(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut from = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == 0 {
            out.push(s.get(from..i).unwrap_or_default());
            from = i + 1;
        }
    }
    out.push(s.get(from..).unwrap_or_default());
    out
}

fn refs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Appends a field of a NUL-separated answer: server text may hold a NUL, which would split the
/// field, so it becomes U+FFFD.
fn field(out: &mut String, v: &str) {
    out.push('\0');
    for c in v.chars() {
        out.push(if c == '\0' { '\u{FFFD}' } else { c });
    }
}

fn opt(out: &mut String, v: &Option<String>) {
    field(out, v.as_deref().unwrap_or_default());
}

fn num(out: &mut String, v: Option<f64>) {
    out.push('\0');
    if let Some(n) = v {
        text::push_u64(out, n.max(0.0) as u64);
    }
}

/// The token request of `attempt` (bit 1: vendor content type, bit 2: Basic) as one NUL-separated
/// string: header names and values in turn, then the form body (form encoding leaves no NUL in
/// it). `params` are the form parameters' names and values in turn, NUL-separated.
#[wasm_bindgen(js_name = tokenRequest)]
pub fn token_request(
    vendor: u8,
    basic: bool,
    attempt: u8,
    client_id: &str,
    secret: &str,
    params: &str,
) -> String {
    let mut pairs = Vec::new();
    if !params.is_empty() {
        for kv in fields(params).chunks_exact(2) {
            if let [k, v] = kv {
                pairs.push((k.to_string(), v.to_string()));
            }
        }
    }
    let cfg = Config {
        vendor: Vendor::from_u8(vendor),
        client_id: client_id.to_string(),
        secret: Some(Secret::new(secret)),
        params: pairs,
        auth: if basic {
            AuthMethod::Basic
        } else {
            AuthMethod::Post
        },
        appd: Mode::default(),
    };
    let req = oauth::token_request(&cfg, attempt_of(attempt));
    let mut out = String::new();
    for (k, v) in req.headers {
        out.push_str(k);
        out.push('\0');
        out.push_str(&v);
        out.push('\0');
    }
    out.push_str(&req.body);
    out
}

fn error_fields(e: Error) -> String {
    let mut o = String::from(e.code.as_str());
    field(&mut o, &e.message);
    opt(&mut o, &e.hint);
    num(&mut o, e.status.map(f64::from));
    opt(&mut o, &e.error);
    opt(&mut o, &e.error_description);
    opt(&mut o, &e.issue_id);
    num(&mut o, e.retry_after.map(|s| text::floor(s * 1000.0 + 0.5)));
    o
}

/// What a token endpoint's answer means, as NUL-separated fields (empty for none): for a token,
/// an empty first field, then the access token, `expiresAt`, `refreshAt` (whole ms since the
/// epoch), scope and resource; for an error, its code, message, hint, status, `error`,
/// `error_description`, `issueId` and `retryAfter` (in ms), with every form of the NUL-separated
/// `secrets` (see `forms`) scrubbed.
/// `retry_after_ms` is NaN when the answer had no usable `Retry-After`.
#[wasm_bindgen(js_name = tokenResponse)]
#[allow(clippy::too_many_arguments)]
pub fn token_response(
    vendor: u8,
    status: u16,
    content_type: &str,
    body: &str,
    retry_after_ms: f64,
    now_ms: f64,
    skew_ms: f64,
    client_id: &str,
    secrets: &str,
) -> String {
    let vendor = Vendor::from_u8(vendor);
    let resp = Response {
        status,
        content_type,
        body,
        retry_after: (!retry_after_ms.is_nan()).then_some(retry_after_ms / 1000.0),
    };
    match token::parse_response(vendor, &resp, now_ms) {
        Ok(t) => {
            let mut o = String::new();
            field(&mut o, t.access_token.expose());
            num(&mut o, Some(t.expires_at_ms));
            // Whole ms: a fractional skew moves the refresh by less than a millisecond.
            num(
                &mut o,
                Some(text::floor(cache::refresh_at(
                    t.expires_at_ms,
                    t.lifetime_ms,
                    skew_ms,
                ))),
            );
            opt(&mut o, &t.scope);
            opt(&mut o, &t.resource);
            o
        }
        Err(_) => {
            // Server text may echo what it was sent: the error is built from a scrubbed copy,
            // before the core quotes or cuts any of it. (The secrets' forms are only needed here.)
            let forms = forms(client_id, secrets);
            let secrets = refs(&forms);
            let scrubbed = scrub_text(body, &secrets, 4);
            let e = token::parse_response(
                vendor,
                &Response {
                    body: &scrubbed,
                    ..resp
                },
                now_ms,
            )
            .err()
            .unwrap_or_else(|| Error::new(crate::core::Code::InvalidResponse, ""));
            error_fields(e.scrub(&secrets))
        }
    }
}

/// The wait before retry number `retry` of a token request, or -1 for no retry. `status` is the
/// answer's (0 after a network error); `random` is uniform in `[0, 1)`.
#[wasm_bindgen(js_name = retryDelay)]
pub fn retry_delay(
    status: u16,
    retry: u32,
    max_retries: u32,
    retry_after_ms: f64,
    random: f64,
) -> f64 {
    if status != 0 && !retry::retryable_status(status) {
        return -1.0;
    }
    let after = (!retry_after_ms.is_nan()).then_some(retry_after_ms);
    retry::delay_ms(retry, max_retries, after, random).unwrap_or(-1.0)
}

/// The first AppDynamics attempt for `mode` (see `mode_of`), as bits.
#[wasm_bindgen(js_name = firstAttempt)]
pub fn first_attempt(mode: u8) -> u8 {
    bits_of(mode_of(mode).first())
}

/// The next AppDynamics attempt after `attempt` was refused with `status`, or -1.
#[wasm_bindgen(js_name = nextAttempt)]
pub fn next_attempt(mode: u8, attempt: u8, status: u16) -> i32 {
    mode_of(mode)
        .next(attempt_of(attempt), status)
        .map_or(-1, |a| i32::from(bits_of(a)))
}

/// How an attempt is described in messages ("vendor content type + Basic").
#[wasm_bindgen(js_name = describeAttempt)]
pub fn describe_attempt(attempt: u8) -> String {
    appdynamics::describe(attempt_of(attempt)).to_string()
}

/// `text` with every form of the NUL-separated `secrets` (see `forms`) of at least `min_len` bytes
/// replaced by `[redacted]`; with `max` > 0, then folded and cut to a short quote of at most `max`
/// characters.
#[wasm_bindgen]
pub fn scrub(text: &str, client_id: &str, secrets: &str, min_len: usize, max: usize) -> String {
    let forms = forms(client_id, secrets);
    let s = scrub_text(text, &refs(&forms), min_len);
    if max > 0 {
        text::snippet(&s, max)
    } else {
        s
    }
}
