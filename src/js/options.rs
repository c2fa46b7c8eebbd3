//! The constructors' options objects, read by every class's option names into one
//! [`ClassOptions`]. It keeps each value as JavaScript holds it, and the checks below word
//! every problem as the documentation does ("clientId must be a string, not a number"). Unknown
//! names are refused first, against the class's list, with the closest known name as a
//! suggestion.

use std::cell::RefCell;

use js_sys::{Array, Object};
use wasm_bindgen::{JsCast, JsValue};

use crate::client::Options;
use crate::core::url::suggest;
use crate::core::{text, Code, Error};

/// An option's value, classified as the messages name it.
#[derive(Clone, Debug, Default)]
pub(crate) enum Val {
    #[default]
    Missing,
    Str(String),
    Num(f64),
    Bool(bool),
    List(Vec<String>),
    BadList,
    Map(Vec<(String, String)>),
    BadMap,
    Other,
}

impl Val {
    fn kind(&self) -> &'static str {
        match self {
            Val::Missing => "missing",
            Val::Str(_) => "a string",
            Val::Num(_) => "a number",
            Val::Bool(_) => "a boolean",
            Val::List(_) => "an array",
            Val::BadList => "an array with items that are not strings",
            Val::Map(_) => "an object",
            Val::BadMap => "an object with values that are not strings",
            Val::Other => "a value of another type",
        }
    }

    /// Classifies a value as the messages name it. `null` and `undefined` are missing; an array
    /// is a list when every item is a string, an object a map when every value is.
    pub(crate) fn of(v: &JsValue) -> Val {
        if v.is_null_or_undefined() {
            Val::Missing
        } else if let Some(b) = v.as_bool() {
            Val::Bool(b)
        } else if let Some(n) = v.as_f64() {
            Val::Num(n)
        } else if v.is_bigint() {
            i64::try_from(v.clone()).map_or(Val::Other, |n| Val::Num(n as f64))
        } else if let Some(s) = v.as_string() {
            Val::Str(s)
        } else if Array::is_array(v) {
            let mut items = Vec::new();
            for item in Array::from(v).iter() {
                match item.as_string() {
                    Some(s) => items.push(s),
                    None => return Val::BadList,
                }
            }
            Val::List(items)
        } else if v.is_object() {
            // A `Map` holds its pairs as entries; another iterable (a `Set`, a typed array) is no
            // options object.
            let entries = if v.is_instance_of::<js_sys::Map>() {
                Array::from(v)
            } else if js_sys::Reflect::has(v, &js_sys::Symbol::iterator()).unwrap_or(false) {
                return Val::Other;
            } else {
                Object::entries(v.unchecked_ref())
            };
            let mut pairs = Vec::new();
            for e in entries.iter() {
                let e: Array = e.unchecked_into();
                match (e.get(0).as_string(), e.get(1).as_string()) {
                    (Some(k), Some(v)) => pairs.push((k, v)),
                    _ => return Val::BadMap,
                }
            }
            Val::Map(pairs)
        } else {
            Val::Other
        }
    }
}

/// Every class's options, by their camelCase names, each kept as JavaScript holds it: the checks
/// word every problem themselves ("clientId must be a string, not a number"). Each class refuses
/// the names it does not know before this is read, so one struct serves the four classes.
/// Each value is at its name's place in [`NAMES`], read with its method (`o.client_id()`).
pub(crate) struct ClassOptions([JsValue; NAMES.len()]);

macro_rules! class_options {
    ($($i:literal $field:ident $name:literal),* $(,)?) => {
        /// Every option name of every class, in the order they are read.
        const NAMES: [&str; [$($i),*].len()] = [$($name),*];

        impl ClassOptions {
            $(
                pub fn $field(&self) -> &JsValue {
                    &self.0[$i]
                }
            )*
        }
    };
}

class_options!(
    0 fetch "fetch",
    1 token_store "tokenStore",
    2 state_storage "stateStorage",
    3 platform_token "platformToken",
    4 redirect_uri "redirectUri",
    5 authorization_url "authorizationUrl",
    6 user_info_url "userInfoUrl",
    7 authorization_params "authorizationParams",
    8 client_id "clientId",
    9 client_secret "clientSecret",
    10 environment_url "environmentUrl",
    11 scope "scope",
    12 resource "resource",
    13 audience "audience",
    14 token_url "tokenUrl",
    15 auth_method "authMethod",
    16 controller_url "controllerUrl",
    17 client_name "clientName",
    18 account_name "accountName",
    19 access_token "accessToken",
    20 token_content_type "tokenContentType",
    21 basic_auth "basicAuth",
    22 issuer "issuer",
    23 base_url "baseUrl",
    24 extra_params "extraParams",
    25 account_uuid "accountUuid",
    26 account_api_url "accountApiUrl",
    27 timeout_ms "timeoutMs",
    28 refresh_skew_seconds "refreshSkewSeconds",
    29 allow_insecure_http "allowInsecureHttp",
    30 max_retries "maxRetries",
);

/// Reads `options`, refusing a value that is not an object and unknown names (with the closest
/// known one as a suggestion). The values are looked up by name, in this order, as serde's reader
/// of a struct would; every value is taken, so there is nothing else to refuse (docs/size.md:
/// serde-wasm-bindgen's reader cost 13.9 KB of the browser build for these lookups).
fn read(class: &str, known: &[&'static str], options: &JsValue) -> Result<ClassOptions, Error> {
    check_names(class, known, options)?;
    Ok(ClassOptions(NAMES.map(|name| property(options, name))))
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `options[name]`. A getter that throws throws out of the constructor as it is.
    #[wasm_bindgen(js_namespace = Reflect, js_name = get)]
    fn property(target: &JsValue, name: &str) -> JsValue;
}

fn needs_object(class: &str) -> Error {
    Error::new(
        Code::InvalidConfig,
        [
            class,
            " needs an options object, e.g. new ",
            class,
            "({ clientId, clientSecret, ... })",
        ]
        .concat(),
    )
}

/// Refuses `options` unless it is an object with known names only.
fn check_names(class: &str, known: &[&'static str], options: &JsValue) -> Result<(), Error> {
    if !options.is_object() || Array::is_array(options) {
        return Err(needs_object(class));
    }
    // The names only: each value is read once, by `read`.
    for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
        let name = key.as_string().unwrap_or_default();
        if known.contains(&name.as_str()) {
            continue;
        }
        let mut m = [
            class,
            ": unknown option \"",
            &text::snippet(&name, 40),
            "\"",
        ]
        .concat();
        if let Some(s) = suggest(&name, known) {
            m.push_str(" (did you mean \"");
            m.push_str(s);
            m.push_str("\"?)");
        }
        return Err(Error::new(Code::InvalidConfig, m));
    }
    Ok(())
}

/// Reads a class's options: its values and the reader of its checks, which reads the shared
/// options first ([`Reader::common`]). `known` lists every name the class takes, the shared ones
/// included.
/// The values go to `slot`, where the constructor finds the secret ones to scrub its error of.
pub(crate) fn begin<'a>(
    class: &'static str,
    known: &[&'static str],
    options: &JsValue,
    slot: &'a mut Option<ClassOptions>,
) -> Result<(&'a ClassOptions, Reader), Error> {
    let o = slot.insert(read(class, known, options)?);
    let r = Reader {
        class,
        first: RefCell::new(None),
    };
    Ok((o, r))
}

/// Checks of one class's option values, worded with its name. A refused value reads as its
/// default and the first refusal is kept: the constructor reads every option, in the order the
/// documentation lists them, then reports that one ([`Reader::done`]).
pub(crate) struct Reader {
    pub class: &'static str,
    first: RefCell<Option<Error>>,
}

impl Reader {
    /// Keeps `e` unless an earlier option was refused already.
    pub fn refuse(&self, e: Error) {
        let mut first = self.first.borrow_mut();
        if first.is_none() {
            *first = Some(e);
        }
    }

    /// Refuses option `name`, worded as the other checks.
    pub fn bad(&self, name: &str, what: &str) {
        self.refuse(crate::client::bad(self.class, name, what));
    }

    /// The first refusal, if any.
    pub fn done(self) -> Result<(), Error> {
        match self.first.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Refuses option `name` for holding `v` where `want` was expected.
    fn want(&self, name: &str, want: &str, v: &Val) {
        self.bad(name, &["must be ", want, ", not ", v.kind()].concat());
    }

    /// A non-empty string without its surrounding whitespace, or `None` when missing.
    pub fn string(&self, name: &str, v: &JsValue) -> Option<String> {
        match &Val::of(v) {
            Val::Missing => None,
            Val::Str(s) if s.trim().is_empty() => {
                self.bad(name, "is empty");
                None
            }
            Val::Str(s) => Some(s.trim().to_string()),
            v => {
                self.want(name, "a string", v);
                None
            }
        }
    }

    /// [`Reader::string`], refused when missing.
    pub fn required(&self, name: &str, v: &JsValue) -> String {
        self.string(name, v).unwrap_or_else(|| {
            self.bad(name, "is required");
            String::new()
        })
    }

    /// A string or an array of strings, each kept as one value.
    pub fn list(&self, name: &str, v: &JsValue) -> Vec<String> {
        match Val::of(v) {
            Val::Missing => Vec::new(),
            Val::Str(s) => vec![s],
            Val::List(l) => l,
            v => {
                self.want(name, "a string or an array of strings", &v);
                Vec::new()
            }
        }
    }

    pub fn boolean(&self, name: &str, v: &JsValue, default: bool) -> bool {
        match Val::of(v) {
            Val::Missing => default,
            Val::Bool(b) => b,
            v => {
                self.want(name, "true or false", &v);
                false
            }
        }
    }

    pub fn number(&self, name: &str, v: &JsValue, default: f64) -> f64 {
        match Val::of(v) {
            Val::Missing => default,
            Val::Num(n) => n,
            v => {
                self.want(name, "a number", &v);
                0.0
            }
        }
    }

    pub fn map(&self, name: &str, v: &JsValue) -> Vec<(String, String)> {
        match Val::of(v) {
            Val::Missing => Vec::new(),
            Val::Map(m) => m,
            v => {
                self.want(name, "an object of string values", &v);
                Vec::new()
            }
        }
    }

    /// An object whose `methods` are functions (a store), or `None` when missing.
    pub fn object_with(
        &self,
        name: &str,
        v: &JsValue,
        methods: &[&str],
        want: &str,
    ) -> Option<JsValue> {
        if v.is_null_or_undefined() {
            return None;
        }
        if (v.is_object() || v.is_function())
            && methods
                .iter()
                .all(|m| crate::client::platform::get(v, m).is_function())
        {
            return Some(v.clone());
        }
        self.bad(name, &["must be ", want].concat());
        None
    }

    /// `stateStorage`: an object with the methods of `sessionStorage`, or `None`.
    pub fn state_storage(&self, o: &ClassOptions) -> Option<JsValue> {
        self.object_with(
            "stateStorage",
            o.state_storage(),
            &["getItem", "setItem", "removeItem"],
            "an object with getItem(), setItem() and removeItem(), like sessionStorage",
        )
    }

    /// The options every class shares.
    pub fn common(&self, o: &ClassOptions) -> Options {
        let fetch = o.fetch();
        let token_store = self.object_with(
            "tokenStore",
            o.token_store(),
            &["get", "set"],
            "an object with get() and set(tokens)",
        );
        let fetch = if fetch.is_null_or_undefined() {
            None
        } else if fetch.is_function() {
            Some(fetch.clone().unchecked_into())
        } else {
            self.bad(
                "fetch",
                &["must be a function, not ", js_kind(fetch)].concat(),
            );
            None
        };
        let timeout_ms = self.number("timeoutMs", o.timeout_ms(), 30_000.0);
        let skew = self.number("refreshSkewSeconds", o.refresh_skew_seconds(), 30.0);
        let allow_insecure_http = self.boolean("allowInsecureHttp", o.allow_insecure_http(), false);
        let retries = self.number("maxRetries", o.max_retries(), 2.0);
        // A count: 1.5 retries is no setting to round silently.
        if !(0.0..=10.0).contains(&retries) || retries.fract() != 0.0 {
            self.bad(
                "maxRetries",
                "must be a number from 0 to 10, with no fraction",
            );
        }
        Options {
            fetch,
            timeout_ms,
            refresh_skew_seconds: skew,
            max_retries: retries.trunc() as u32,
            allow_insecure_http,
            token_store,
        }
    }
}

/// How the messages name the type of a raw JS value.
fn js_kind(v: &JsValue) -> &'static str {
    if v.is_string() {
        "a string"
    } else if v.as_f64().is_some() {
        "a number"
    } else if v.as_bool().is_some() {
        "a boolean"
    } else if Array::is_array(v) {
        "an array"
    } else if v.is_object() {
        "an object"
    } else {
        "a value of another type"
    }
}
