//! Core errors as JavaScript errors: a real `Error` named `ApmOAuthError`, with `code`, `hint`,
//! `status`, `error`, `errorDescription`, `issueId` and `retryAfter` as properties where known.

use super::js::{get, set};
use crate::core::Error;
use wasm_bindgen::JsValue;

/// The JavaScript error for a core error. Callers scrub secrets first.
pub fn to_js(e: &Error) -> JsValue {
    let err = js_sys::Error::new(&e.full_message());
    err.set_name("ApmOAuthError");
    let v: JsValue = err.into();
    // The stack was captured with the name "Error"; give it the right one.
    if let Some(stack) = get(&v, "stack").as_string() {
        if let Some(rest) = stack.strip_prefix("Error") {
            set(
                &v,
                "stack",
                &JsValue::from_str(&["ApmOAuthError", rest].concat()),
            );
        }
    }
    set(&v, "code", &JsValue::from_str(e.code.as_str()));
    let fields = [
        ("hint", &e.hint),
        ("error", &e.error),
        ("errorDescription", &e.error_description),
        ("issueId", &e.issue_id),
    ];
    for (name, value) in fields {
        if let Some(s) = value {
            set(&v, name, &JsValue::from_str(s));
        }
    }
    if let Some(s) = e.status {
        set(&v, "status", &JsValue::from(s));
    }
    if let Some(s) = e.retry_after {
        set(&v, "retryAfter", &JsValue::from(s));
    }
    v
}
