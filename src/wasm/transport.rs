//! The only module that calls fetch: the global one or the user's. Each attempt gets its own
//! `AbortController`, aborted by a timer (cleared when the attempt ends) or by the caller's signal.

use super::js::{self, get, Timer};
use crate::core::text::{cat, snippet, u64_str};
use crate::core::{Code, Error};
use js_sys::{Function, Promise, Uint8Array};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

/// Most of a token or error body that is read: a broken or hostile endpoint cannot make the
/// client buffer more.
pub const BODY_LIMIT: usize = 64 * 1024;

/// How one attempt failed before a response was complete.
fn failure(
    secrets: &[&str],
    origin: &str,
    timeout_ms: f64,
    timed_out: bool,
    user_signal: Option<&JsValue>,
    cause: &JsValue,
) -> Error {
    if timed_out {
        return Error::new(
            Code::Timeout,
            cat(&[
                "no answer from ",
                origin,
                " within ",
                &u64_str(timeout_ms as u64),
                " ms",
            ]),
        )
        .hint("raise timeoutMs, or check that the host is reachable");
    }
    if user_signal.is_some_and(|s| get(s, "aborted").is_truthy()) {
        return Error::new(Code::Aborted, "the call was aborted by its signal");
    }
    let mut msg = cat(&["could not reach ", origin]);
    let detail = get(&get(cause, "cause"), "message")
        .as_string()
        .or_else(|| get(cause, "message").as_string())
        .or_else(|| cause.as_string());
    if let Some(d) = detail {
        msg.push_str(": ");
        msg.push_str(&snippet(
            &crate::core::error::scrub_text(&d, secrets, 4),
            120,
        ));
    }
    let hint = if js::in_browser_page() {
        "in a browser this is also how a CORS refusal looks: the server must allow this page's origin, or route calls through a same-origin proxy with the fetch option"
    } else {
        "check the URL, DNS, proxy and firewall"
    };
    Error::new(Code::Network, msg).hint(hint)
}

/// An `Error` when the caller's signal has already fired.
pub fn check_signal(signal: Option<&JsValue>) -> Result<(), Error> {
    match signal {
        Some(s) if get(s, "aborted").is_truthy() => Err(Error::new(
            Code::Aborted,
            "the call was aborted by its signal",
        )),
        _ => Ok(()),
    }
}

/// A response and, when asked for, its body text (bounded).
pub struct Reply {
    /// The platform `Response`.
    pub response: JsValue,
    /// Its status.
    pub status: u16,
    /// Its body, when read.
    pub body: String,
}

impl Reply {
    /// A response header, or empty.
    pub fn header(&self, name: &str) -> String {
        js::call(
            &get(&self.response, "headers"),
            "get",
            &[&JsValue::from_str(name)],
        )
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
    }
}

/// The fetch function and the per-attempt timeout.
pub struct Transport {
    /// The user's `fetch`, or `None` for the global one.
    pub fetch_fn: Option<Function>,
    /// Per attempt.
    pub timeout_ms: f64,
    /// The credentials in every form a server or a fetch might echo them in, scrubbed from any
    /// text quoted in an error before it is cut.
    pub secret_forms: Vec<String>,
}

impl Transport {
    /// [`Transport::secret_forms`] as the slices the scrubbers take.
    pub fn secret_refs(&self) -> Vec<&str> {
        self.secret_forms.iter().map(String::as_str).collect()
    }

    /// Sends one attempt. `init` is a fresh object this call may change (it sets `signal`). With
    /// `read_body` the timeout covers the body too; without, it ends with the response headers and
    /// the caller owns the body.
    pub async fn send(
        &self,
        url: &str,
        origin: &str,
        init: &JsValue,
        user_signal: Option<&JsValue>,
        read_body: bool,
        bearer: Option<&str>,
    ) -> Result<Reply, Error> {
        check_signal(user_signal)?;
        let ctl = AbortController::new().map_err(|_| {
            Error::new(
                Code::Network,
                "AbortController is not available in this runtime",
            )
        })?;
        let timed_out = Rc::new(Cell::new(false));
        let _timer = {
            let (flag, ctl) = (timed_out.clone(), ctl.clone());
            Timer::new(self.timeout_ms, move || {
                flag.set(true);
                ctl.abort();
            })
        };
        // When the caller's signal fires, the attempt's timer goes at once, in the abort event,
        // not a few tasks later when this future resumes.
        let _on_abort = user_signal.and_then(|us| {
            let id = _timer.id();
            js::AbortListener::new(us, move || js::clear_timeout(&id))
        });
        let signal: JsValue = match user_signal {
            Some(us) => any_signal(us, &ctl.signal().into()),
            None => ctl.signal().into(),
        };
        js::set(init, "signal", &signal);
        let fail = |cause: &JsValue| {
            let mut secrets = self.secret_refs();
            secrets.extend(bearer);
            failure(
                &secrets,
                origin,
                self.timeout_ms,
                timed_out.get(),
                user_signal,
                cause,
            )
        };
        let started = match &self.fetch_fn {
            Some(f) => f
                .call2(&JsValue::UNDEFINED, &JsValue::from_str(url), init)
                .map(|v| Promise::resolve(&v)),
            None => js::global_fetch(url, init),
        };
        let response = JsFuture::from(started.map_err(|e| fail(&e))?)
            .await
            .map_err(|e| fail(&e))?;
        let status = get(&response, "status").as_f64().unwrap_or(0.0) as u16;
        let body = if read_body {
            read_bounded(&response).await.map_err(|e| fail(&e))?
        } else {
            String::new()
        };
        Ok(Reply {
            response,
            status,
            body,
        })
    }
}

/// `AbortSignal.any([a, b])` where the runtime has it; otherwise the caller's signal is checked
/// before the attempt and the timeout still applies.
fn any_signal(user: &JsValue, ours: &JsValue) -> JsValue {
    let ctor = get(&js_sys::global(), "AbortSignal");
    let list = js_sys::Array::of2(user, ours);
    match js::call(&ctor, "any", &[&list]) {
        Ok(s) if !s.is_undefined() => s,
        _ => ours.clone(),
    }
}

/// Reads at most [`BODY_LIMIT`] bytes of a body as text, then cancels the rest.
async fn read_bounded(response: &JsValue) -> Result<String, JsValue> {
    let body = get(response, "body");
    if body.is_null() || body.is_undefined() {
        // A fetch without streams (or an empty body): fall back to text().
        let p: Promise = js::call(response, "text", &[])?.dyn_into()?;
        let text = JsFuture::from(p).await?.as_string().unwrap_or_default();
        return Ok(if text.len() > BODY_LIMIT {
            text.chars().take(BODY_LIMIT).collect()
        } else {
            text
        });
    }
    let reader = js::call(&body, "getReader", &[])?;
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let chunk = JsFuture::from(js::call(&reader, "read", &[])?.dyn_into::<Promise>()?).await?;
        if get(&chunk, "done").is_truthy() {
            break;
        }
        let value: Uint8Array = get(&chunk, "value").dyn_into()?;
        let room = BODY_LIMIT - bytes.len();
        let n = (value.length() as usize).min(room);
        let start = bytes.len();
        bytes.resize(start + n, 0);
        value.subarray(0, n as u32).copy_to(&mut bytes[start..]);
        if bytes.len() >= BODY_LIMIT {
            if let Ok(p) = js::call(&reader, "cancel", &[]).and_then(|p| p.dyn_into::<Promise>()) {
                let _ = JsFuture::from(p).await;
            }
            break;
        }
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Discards a body that will not be read, so its connection can be reused.
pub async fn discard_body(response: &JsValue) {
    let body = get(response, "body");
    if body.is_null() || body.is_undefined() {
        return;
    }
    if let Ok(p) = js::call(&body, "cancel", &[]).and_then(|p| p.dyn_into::<Promise>()) {
        let _ = JsFuture::from(p).await;
    }
}
