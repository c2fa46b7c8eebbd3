//! Property tests of the pure core, through its public API only: every reader and encoder gets
//! random and adversarial input, and must never panic and keep its promises.
//!
//! `cargo test --test proptest_core` runs a few hundred cases per property (a few seconds).
//! A long run: `PROPTEST_CASES=200000 cargo test --release --test proptest_core -- --nocapture`.
//! `PROPTEST_RNG_SEED=<n>` replays a run. Each property prints `[proptest] <name>: <n> cases`
//! (shown with `--nocapture`); a failure prints the smallest input found.

#![cfg(not(target_arch = "wasm32"))]

use apm_oauth::core::body::Parsed;
use apm_oauth::core::config::Vendor;
use apm_oauth::core::encoding::{basic_client_auth, basic_raw, form_encode, path_segment};
use apm_oauth::core::error::secret_forms;
use apm_oauth::core::retry::delay_ms;
use apm_oauth::core::text::{decimal, snippet};
use apm_oauth::core::token::{
    self, error_fields, error_response, parse_response, rust_number, Response,
};
use apm_oauth::core::Code;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::cell::Cell;
use std::fmt::Debug;

// ---------------------------------------------------------------------------------------------
// Harness

fn case_count(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `test` on `cases` values of `strategy` (PROPTEST_CASES when set), prints how many ran.
fn check<S: Strategy>(
    name: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug,
{
    let config = Config {
        cases: case_count(default_cases),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let ran = Cell::new(0u64);
    let started = std::time::Instant::now();
    let result = runner.run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    println!(
        "[proptest] {name}: {} cases ({} ms)",
        ran.get(),
        started.elapsed().as_millis()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

const TOKEN_CHARS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-";

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '~' | '+' | '/' | '=' | '-')
}

/// The runs of token characters in `s` that look like a credential: 24 or more, with letters and
/// digits, and no UUID (8-4-4-4-12 hex digits).
fn secret_like_runs(s: &str) -> Vec<&str> {
    s.split(|c: char| !is_token_char(c))
        .filter(|run| {
            let uuid = run.len() == 36
                && run.char_indices().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => c == '-',
                    _ => c.is_ascii_hexdigit(),
                });
            run.len() >= 24
                && !uuid
                && run.chars().any(|c| c.is_ascii_digit())
                && run.chars().any(|c| c.is_ascii_alphabetic())
        })
        .collect()
}

/// Strings that mix printable text, punctuation, whitespace, controls and non-ASCII.
fn messy_string(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => proptest::collection::vec(
            prop_oneof![
                Just("a"), Just("Z"), Just("0"), Just("."), Just("-"), Just("_"), Just("~"), Just("+"),
                Just("/"), Just("="), Just(" "), Just("\t"), Just("\n"), Just("\r"), Just("\u{0}"),
                Just("\u{7f}"), Just("<"), Just(">"), Just("&"), Just("%"), Just("\""), Just("\\"),
                Just("é"), Just("😀"), Just("\u{a0}"), Just("\u{2028}"), Just("<title>"), Just("</title>"),
                Just("<!DOCTYPE html>"), Just("<html>"), Just("{"), Just("}"), Just("["), Just("]"),
                Just(":"), Just(","), Just("eyJhbGciOiJSUzI1NiJ9"), Just("abcdefghijklmnopqrstuvwxyz0123"),
            ],
            0..max,
        )
        .prop_map(|v| v.concat()),
    ]
}

// ---------------------------------------------------------------------------------------------
// JSON: the client parses a body with `JSON.parse`; serde_json stands in for it here

/// What the client hands the core for a body text: not JSON, JSON that is not an object, or the
/// object's members (parsed into a value first, so that the last duplicate key wins as in
/// `JSON.parse`).
fn parsed(text: &str) -> Parsed {
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(_) => Parsed::NotJson,
        Ok(v @ serde_json::Value::Object(_)) => {
            Parsed::Object(serde::Deserialize::deserialize(v).expect("a body always deserializes"))
        }
        Ok(_) => Parsed::NotObject,
    }
}

/// A JSON text's value as `JSON.parse` gives it, or `None` when it is not JSON.
fn json_value(text: &str) -> Option<serde_json::Value> {
    serde_json::from_str(text).ok()
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            // Astral characters as surrogate pairs half the time, to exercise the escape path.
            c if (c as u32) > 0xffff && c as u32 % 2 == 0 => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04X}", unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------------------------------------
// Token responses

/// A field of a near-valid token body: right type, wrong type, or absent.
#[derive(Clone, Debug)]
enum Field {
    Absent,
    Raw(String),
}

fn json_str(s: &str) -> String {
    let mut out = String::new();
    write_json_string(s, &mut out);
    out
}

fn access_token_field() -> impl Strategy<Value = Field> {
    prop_oneof![
        6 => proptest::string::string_regex("[A-Za-z0-9._~+/=-]{1,300}").unwrap().prop_map(|s| Field::Raw(json_str(&s))),
        1 => Just(Field::Absent),
        1 => Just(Field::Raw("\"\"".into())),
        1 => Just(Field::Raw("null".into())),
        1 => any::<i64>().prop_map(|n| Field::Raw(n.to_string())),
        1 => Just(Field::Raw("{\"t\":\"x\"}".into())),
        1 => any::<String>().prop_map(|s| Field::Raw(json_str(&s))),
        1 => Just(Field::Raw("\"a b\"".into())),
        1 => Just(Field::Raw("\"tok\\u0000en\"".into())),
        1 => Just(Field::Raw("\"tokén\"".into())),
    ]
}

fn token_type_field() -> impl Strategy<Value = Field> {
    prop_oneof![
        4 => prop_oneof![Just("Bearer"), Just("bearer"), Just("BEARER"), Just("bEaReR")].prop_map(|s| Field::Raw(json_str(s))),
        2 => Just(Field::Absent),
        1 => Just(Field::Raw("null".into())),
        1 => prop_oneof![Just("mac"), Just("DPoP"), Just("N_A"), Just(" Bearer"), Just("")].prop_map(|s| Field::Raw(json_str(s))),
        1 => any::<String>().prop_map(|s| Field::Raw(json_str(&s))),
        1 => Just(Field::Raw("1".into())),
        1 => Just(Field::Raw("true".into())),
    ]
}

/// expires_in and the lifetime (s) the client must believe.
fn expires_in_field() -> impl Strategy<Value = (Field, f64)> {
    const MAX: f64 = token::MAX_LIFETIME_S;
    const DEFAULT: f64 = token::DEFAULT_LIFETIME_S;
    let rule = |n: f64| if n <= 0.0 { 0.0 } else { n.min(MAX).floor() };
    prop_oneof![
        4 => (-1_000_000i64..10_000_000_000i64).prop_map(move |n| (Field::Raw(n.to_string()), rule(n as f64))),
        // Decimals (the reader need not round correctly: two decimals keep floor() unambiguous).
        2 => (-1_000_000i64..10_000_000_000i64, 0u8..100).prop_map(move |(i, f)| {
            let text = format!("{i}.{f:02}");
            let n: f64 = text.parse().unwrap();
            (Field::Raw(text), rule(n))
        }),
        // Any double where the rule does not depend on the last digits: not positive, or capped.
        1 => any::<f64>().prop_filter("finite, <= 0 or capped", |n| n.is_finite() && (*n <= 0.0 || *n > 1e8)).prop_map(move |n| (Field::Raw(format!("{n:?}")), rule(n))),
        2 => (0u32..1_000_000u32, "[ \t]{0,2}", "[ \t]{0,2}").prop_map(move |(n, a, b)| (Field::Raw(json_str(&format!("{a}{n}{b}"))), rule(f64::from(n)))),
        1 => any::<f64>().prop_filter("finite, <= 0 or capped", |n| n.is_finite() && (*n <= 0.0 || *n > 1e8)).prop_map(move |n| (Field::Raw(json_str(&format!("{n:?}"))), rule(n))),
        1 => Just((Field::Absent, DEFAULT)),
        1 => Just((Field::Raw("null".into()), DEFAULT)),
        1 => prop_oneof![Just("abc"), Just(""), Just("  "), Just("NaN"), Just("Infinity"), Just("-inf"), Just("1,5"), Just("5s"), Just("0x10")]
            .prop_map(move |s| (Field::Raw(json_str(s)), DEFAULT)),
        1 => prop_oneof![Just("true"), Just("false"), Just("[]"), Just("{}"), Just("[300]")].prop_map(move |s| (Field::Raw(s.into()), DEFAULT)),
    ]
}

#[derive(Clone, Debug)]
struct TokenBody {
    access_token: Field,
    token_type: Field,
    expires_in: (Field, f64),
    extra: Vec<(String, String)>,
    order: u8,
}

impl TokenBody {
    fn json(&self) -> String {
        let mut members: Vec<String> = Vec::new();
        let mut put = |name: &str, f: &Field| {
            if let Field::Raw(raw) = f {
                members.push(format!("{}:{}", json_str(name), raw));
            }
        };
        put("access_token", &self.access_token);
        put("token_type", &self.token_type);
        put("expires_in", &self.expires_in.0);
        for (k, v) in &self.extra {
            members.push(format!("{}:{}", json_str(k), json_str(v)));
        }
        let n = members.len().max(1);
        members.rotate_left(self.order as usize % n);
        format!("{{{}}}", members.join(","))
    }

    /// What the client must do with it: Some(lifetime s) when it is a usable Bearer token.
    fn expected(&self) -> Option<f64> {
        let token_ok = match &self.access_token {
            Field::Raw(raw) => match json_value(raw) {
                Some(serde_json::Value::String(s)) => {
                    !s.is_empty()
                        && s.chars()
                            .all(|c| c.is_ascii() && !c.is_ascii_control() && c != ' ')
                }
                _ => false,
            },
            Field::Absent => false,
        };
        let type_ok = match &self.token_type {
            Field::Absent => true,
            Field::Raw(raw) => match json_value(raw) {
                Some(serde_json::Value::Null) => true,
                Some(serde_json::Value::String(s)) => s.eq_ignore_ascii_case("bearer"),
                _ => false,
            },
        };
        (token_ok && type_ok).then_some(self.expires_in.1)
    }
}

fn token_body() -> impl Strategy<Value = TokenBody> {
    (
        access_token_field(),
        token_type_field(),
        expires_in_field(),
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("scope".to_string()),
                    Just("resource".to_string()),
                    Just("refresh_token".to_string()),
                    any::<String>()
                ],
                any::<String>(),
            ),
            0..3,
        ),
        any::<u8>(),
    )
        .prop_map(
            |(access_token, token_type, expires_in, extra, order)| TokenBody {
                access_token,
                token_type,
                expires_in,
                extra: extra
                    .into_iter()
                    // A duplicate key would win over the generated field.
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "access_token" | "token_type" | "expires_in")
                    })
                    .collect(),
                order,
            },
        )
}

fn vendor() -> impl Strategy<Value = Vendor> {
    prop_oneof![
        Just(Vendor::Dynatrace),
        Just(Vendor::AppDynamics),
        Just(Vendor::Generic)
    ]
}

#[test]
fn near_valid_token_bodies_are_judged_by_the_rules() {
    check(
        "token::parse_response on near-valid token JSON",
        512,
        (vendor(), token_body(), 0f64..4e12),
        |(vendor, body, now)| {
            let text = body.json();
            let json = parsed(&text);
            let r = Response {
                status: 200,
                content_type: "application/json",
                body: &text,
                json: &json,
                retry_after: None,
                number: rust_number,
            };
            match (parse_response(vendor, &r, now), body.expected()) {
                (Ok(t), Some(lifetime)) => {
                    prop_assert_eq!(t.lifetime_ms, lifetime * 1000.0, "{}", text);
                    prop_assert_eq!(t.expires_at_ms, now + lifetime * 1000.0);
                    prop_assert_eq!(t.token_type, "Bearer");
                }
                (Err(e), None) => {
                    prop_assert_eq!(e.code, Code::InvalidResponse, "{}", text);
                    prop_assert_eq!(e.status, Some(200));
                    prop_assert!(
                        e.message.chars().count() <= 400,
                        "message of {} chars",
                        e.message.chars().count()
                    );
                }
                (got, want) => {
                    return Err(TestCaseError::fail(format!(
                        "{text}: got {:?}, want {}",
                        got.map(|t| t.lifetime_ms),
                        if want.is_some() {
                            "a token"
                        } else {
                            "an error"
                        }
                    )))
                }
            }
            Ok(())
        },
    );
}

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => prop_oneof![Just(200u16), Just(201), Just(204), Just(302), Just(307), Just(400), Just(401), Just(403), Just(404), Just(405), Just(415), Just(429), Just(500), Just(502), Just(503), Just(504)],
        1 => any::<u16>(),
    ]
}

fn content_type() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("application/json".to_string()),
        Just("text/html; charset=utf-8".to_string()),
        Just("TEXT/HTML".to_string()),
        Just("text/plain".to_string()),
        Just(String::new()),
        any::<String>(),
    ]
}

/// Error bodies: OAuth JSON, Dynatrace's mixed JSON, the platform shape, text, HTML, junk.
fn error_body() -> impl Strategy<Value = String> {
    let text = || messy_string(48);
    prop_oneof![
        (text(), text(), text()).prop_map(|(e, d, id)| format!(
            "{{\"errorCode\":400,\"message\":\"Bad Request\",\"issueId\":{},\"error\":{},\"error_description\":{}}}",
            json_str(&id), json_str(&e), json_str(&d)
        )),
        (prop_oneof![Just("invalid_client"), Just("invalid_scope"), Just("unauthorized_client"), Just("invalid_request"), Just("invalid_target")], text())
            .prop_map(|(e, d)| format!("{{\"error\":\"{e}\",\"error_description\":{}}}", json_str(&d))),
        proptest::collection::vec("[a-z-]{1,12}:[a-z]{1,12}", 0..80).prop_map(|scopes| format!(
            "{{\"error\":\"invalid_request\",\"error_description\":\"Invalid OAuth2 request. UNSUCCESSFUL_OAUTH_ACCESS_TOKEN_VALIDATION_FAILED | OAuth client is missing following scopes [{}]\"}}",
            scopes.join(", ")
        )),
        text().prop_map(|m| format!("{{\"error\":{{\"code\":403,\"message\":{}}}}}", json_str(&m))),
        text().prop_map(|t| format!("<!DOCTYPE html><html><head><title>{t}</title></head><body>{t}</body></html>")),
        messy_string(200),
        any::<String>(),
        token_body().prop_map(|b| b.json()),
    ]
}

#[test]
fn any_answer_becomes_a_token_or_a_bounded_error() {
    check(
        "token::parse_response on arbitrary answers",
        384,
        (
            vendor(),
            status(),
            content_type(),
            error_body(),
            proptest::option::of(0f64..100_000.0),
        ),
        |(vendor, status, content_type, body, retry_after)| {
            let json = parsed(&body);
            let r = Response {
                status,
                content_type: &content_type,
                body: &body,
                json: &json,
                retry_after,
                number: rust_number,
            };
            match parse_response(vendor, &r, 1.0e12) {
                Ok(t) => {
                    prop_assert!((200..300).contains(&status));
                    prop_assert!(!t.access_token.expose().is_empty());
                    prop_assert!(
                        t.lifetime_ms >= 0.0 && t.lifetime_ms <= token::MAX_LIFETIME_S * 1000.0
                    );
                }
                Err(e) => {
                    let want = match status {
                        200..=299 => Some(Code::InvalidResponse),
                        429 => Some(Code::RateLimited),
                        500..=u16::MAX => Some(Code::ServerError),
                        _ => None,
                    };
                    if let Some(want) = want {
                        prop_assert_eq!(e.code, want);
                    } else {
                        prop_assert!(
                            matches!(
                                e.code,
                                Code::InvalidClient | Code::InvalidScope | Code::TokenError
                            ),
                            "{:?}",
                            e.code
                        );
                    }
                    prop_assert_eq!(e.status, Some(status));
                    prop_assert!(
                        e.message.chars().count() <= 600,
                        "a message of {} chars",
                        e.message.chars().count()
                    );
                    if !(200..300).contains(&status) {
                        prop_assert_eq!(e.retry_after, retry_after);
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn error_fields_and_error_response_agree_and_never_panic() {
    check(
        "token::error_fields / error_response",
        384,
        (vendor(), 300u16..600, error_body()),
        |(vendor, status, body)| {
            let json = parsed(&body);
            let fields = error_fields(&json);
            let r = Response {
                status,
                content_type: "application/json",
                body: &body,
                json: &json,
                retry_after: None,
                number: rust_number,
            };
            let e = error_response(vendor, &r);
            let f = fields.unwrap_or_default();
            prop_assert_eq!(e.error, f.error);
            prop_assert_eq!(e.error_description, f.description);
            prop_assert_eq!(e.issue_id, f.issue_id);
            prop_assert!(
                e.message.chars().count() <= 600,
                "a message of {} chars",
                e.message.chars().count()
            );
            Ok(())
        },
    );
}

#[test]
fn a_long_missing_scopes_list_still_gives_a_short_message() {
    // Dynatrace's "missing following scopes [...]" list is quoted in the message: a broken or
    // hostile server can make that list as long as the body (64 KiB).
    let list = "storage:logs:read, ".repeat(3_000);
    let body = format!(
        "{{\"error\":\"invalid_request\",\"error_description\":\"Invalid OAuth2 request. | OAuth client is missing following scopes [{list}]\"}}"
    );
    let e = error_response(
        Vendor::Dynatrace,
        &Response {
            status: 400,
            content_type: "application/json",
            body: &body,
            json: &parsed(&body),
            retry_after: None,
            number: rust_number,
        },
    );
    assert_eq!(e.code, Code::InvalidScope);
    assert!(
        e.message.chars().count() <= 600,
        "the message quotes {} characters of the body",
        e.message.chars().count()
    );
}

// ---------------------------------------------------------------------------------------------
// Form encoding

/// The WHATWG URL standard's application/x-www-form-urlencoded byte serializer, written from
/// the standard's text: 0x20 → "+"; 0x2A, 0x2D, 0x2E, 0x30–0x39, 0x41–0x5A, 0x5F, 0x61–0x7A as
/// is; every other byte as %XX (upper-case hex).
fn whatwg_form_urlencode(pairs: &[(String, String)]) -> String {
    let serialize = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                0x20 => "+".to_string(),
                0x2A | 0x2D | 0x2E | 0x30..=0x39 | 0x41..=0x5A | 0x5F | 0x61..=0x7A => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", serialize(k), serialize(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A small percent-decoder for form bodies ("+" is a space).
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn form_pairs() -> impl Strategy<Value = Vec<(String, String)>> {
    let part = prop_oneof![
        any::<String>(),
        messy_string(24),
        Just("s3:cr%t+ w/ü".to_string())
    ];
    proptest::collection::vec((part.clone(), part), 0..6)
}

#[test]
fn form_encoding_is_the_whatwg_serializer_and_decodes_back() {
    check("encoding::form_encode", 384, form_pairs(), |pairs| {
        let refs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let encoded = form_encode(&refs);
        prop_assert_eq!(&encoded, &whatwg_form_urlencode(&pairs));
        prop_assert!(encoded.is_ascii());
        if !pairs.is_empty() {
            let decoded: Vec<(String, String)> = encoded
                .split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("every pair has =");
                    (
                        form_decode(k).expect("decodes"),
                        form_decode(v).expect("decodes"),
                    )
                })
                .collect();
            prop_assert_eq!(decoded, pairs);
        }
        Ok(())
    });
}

#[test]
fn basic_client_auth_is_rfc6749_form_encoded_pair() {
    check(
        "encoding::basic_client_auth",
        256,
        (messy_string(24), messy_string(40)),
        |(id, secret)| {
            let pair = basic_client_auth(&id, &secret);
            // One colon only: the form-encoding escapes the colons of the id and the secret.
            let (u, p) = pair.split_once(':').expect("a colon");
            prop_assert!(!p.contains(':'));
            prop_assert_eq!(form_decode(u), Some(id));
            prop_assert_eq!(form_decode(p), Some(secret));
            Ok(())
        },
    );
    check(
        "error::secret_forms",
        256,
        (messy_string(24), messy_string(40)),
        |(id, secret)| {
            let b64 = |s: &str| STANDARD.encode(s);
            let forms = secret_forms(&id, &secret, &b64);
            prop_assert!(forms.contains(&secret));
            if !id.is_empty() {
                prop_assert!(forms.contains(&b64(&basic_client_auth(&id, &secret))));
                prop_assert!(forms.contains(&b64(&basic_raw(&id, &secret))));
            }
            prop_assert!(forms.windows(2).all(|w| w[0].len() >= w[1].len()));
            for (i, f) in forms.iter().enumerate() {
                prop_assert!(!forms[..i].contains(f), "{:?} twice", f);
            }
            Ok(())
        },
    );
    check("encoding::path_segment", 256, messy_string(40), |s| {
        let seg = path_segment(&s);
        prop_assert!(!seg.contains(['/', '?', '#', '\\', ' ']));
        prop_assert_eq!(form_decode(&seg.replace('+', "%2B")), Some(s));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Retry delays and snippets

#[test]
fn retry_delays_stay_in_their_bounds() {
    check(
        "retry::delay_ms",
        1024,
        (
            0u32..40,
            0u32..12,
            proptest::option::of(-1e6f64..1e9),
            0f64..1.0,
        ),
        |(retry, max, after, random)| {
            match delay_ms(retry, max, after, random) {
                None => prop_assert!(retry >= max || after.is_some_and(|a| a > 30_000.0)),
                Some(d) => {
                    prop_assert!(retry < max);
                    prop_assert!((0.0..=30_000.0).contains(&d), "{}", d);
                    if after.is_none() {
                        prop_assert!(d <= 5_000.0);
                    }
                }
            }
            Ok(())
        },
    );
}

#[test]
fn snippets_are_short_and_never_carry_a_secret_like_token_run() {
    check(
        "text::snippet",
        768,
        (
            prop_oneof![
                messy_string(120),
                any::<String>(),
                (
                    messy_string(20),
                    proptest::string::string_regex("[A-Za-z0-9._~+/=-]{24,80}").unwrap(),
                    messy_string(20)
                )
                    .prop_map(|(a, t, b)| format!("{a}{t}{b}")),
                (
                    messy_string(20),
                    proptest::string::string_regex("[A-Za-z0-9._~+/=-]{24,80}").unwrap()
                )
                    .prop_map(|(t, tok)| format!(
                        "<html><head><title>{t}{tok}</title></head><body>{tok}</body></html>"
                    )),
            ],
            0usize..300,
        ),
        |(body, max)| {
            let s = snippet(&body, max);
            prop_assert!(
                s.chars().count() <= max + 1,
                "{} chars for max {}",
                s.chars().count(),
                max
            );
            prop_assert!(secret_like_runs(&s).is_empty(), "{:?} → {:?}", body, s);
            Ok(())
        },
    );
    // And the token characters are the ones the redaction knows.
    assert!(TOKEN_CHARS.chars().all(is_token_char));
}

#[test]
fn decimal_writes_integers_as_to_string_does() {
    check(
        "text::decimal",
        2000,
        prop_oneof![0u64..1000, any::<u64>()],
        |n| {
            prop_assert_eq!(decimal(n), n.to_string());
            Ok(())
        },
    );
    for n in [0, 9, 10, 99, 100, 65535, u64::MAX] {
        assert_eq!(decimal(n), n.to_string());
    }
}
