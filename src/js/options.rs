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
                match (
                    e.get_unchecked(0).as_string(),
                    e.get_unchecked(1).as_string(),
                ) {
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
/// Each value is at its option's place in [`NAMES`] (`o.get(Opt::ClientId)`).
pub(crate) struct ClassOptions([JsValue; NAMES.len()]);

impl ClassOptions {
    pub fn get(&self, opt: Opt) -> &JsValue {
        &self.0[opt as usize]
    }
}

macro_rules! class_options {
    ($($opt:ident $name:literal),* $(,)?) => {
        /// Every option of every class, in the order they are read.
        #[derive(Clone, Copy)]
        pub(crate) enum Opt {
            $($opt),*
        }

        /// Every option's name, at its place in [`Opt`].
        const NAMES: [&str; [$($name),*].len()] = [$($name),*];
    };
}

class_options!(
    Fetch "fetch",
    TokenStore "tokenStore",
    StateStorage "stateStorage",
    PlatformToken "platformToken",
    RedirectUri "redirectUri",
    AuthorizationUrl "authorizationUrl",
    UserInfoUrl "userInfoUrl",
    AuthorizationParams "authorizationParams",
    ClientId "clientId",
    ClientSecret "clientSecret",
    EnvironmentUrl "environmentUrl",
    Scope "scope",
    Resource "resource",
    Audience "audience",
    TokenUrl "tokenUrl",
    AuthMethod "authMethod",
    ControllerUrl "controllerUrl",
    ClientName "clientName",
    AccountName "accountName",
    AccessToken "accessToken",
    TokenContentType "tokenContentType",
    BasicAuth "basicAuth",
    Issuer "issuer",
    BaseUrl "baseUrl",
    ExtraParams "extraParams",
    AccountUuid "accountUuid",
    AccountApiUrl "accountApiUrl",
    TimeoutMs "timeoutMs",
    RefreshSkewSeconds "refreshSkewSeconds",
    AllowInsecureHttp "allowInsecureHttp",
    MaxRetries "maxRetries",
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

/// Reads a class's options into the reader of its checks, which reads the shared options first
/// ([`Reader::common`]). `known` lists every name the class takes, the shared ones included.
/// The values go to `slot`, where the constructor finds the secret ones to scrub its error of.
pub(crate) fn begin<'a>(
    class: &'static str,
    known: &[&'static str],
    options: &JsValue,
    slot: &'a mut Option<ClassOptions>,
) -> Result<Reader<'a>, Error> {
    let o = slot.insert(read(class, known, options)?);
    Ok(Reader {
        class,
        o,
        first: RefCell::new(None),
    })
}

/// [`Reader::text`] of an option every configuration of the class needs.
pub(crate) const REQUIRED: bool = true;

/// Checks of one class's option values, worded with its name. A refused value reads as its
/// default and the first refusal is kept: the constructor reads every option, in the order the
/// documentation lists them, then reports that one ([`Reader::done`]).
pub(crate) struct Reader<'a> {
    pub class: &'static str,
    o: &'a ClassOptions,
    first: RefCell<Option<Error>>,
}

impl Reader<'_> {
    /// Keeps `e` unless an earlier option was refused already.
    pub fn refuse(&self, e: Error) {
        let mut first = self.first.borrow_mut();
        if first.is_none() {
            *first = Some(e);
        }
    }

    /// The value of option `opt`.
    pub fn value(&self, opt: Opt) -> &JsValue {
        self.o.get(opt)
    }

    /// Refuses option `opt`, worded as the other checks.
    pub fn bad(&self, opt: Opt, what: &str) {
        self.refuse(crate::client::bad(self.class, NAMES[opt as usize], what));
    }

    /// The first refusal, if any.
    pub fn done(self) -> Result<(), Error> {
        match self.first.into_inner() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Refuses option `opt` for holding `v` where `want` was expected.
    fn want(&self, opt: Opt, want: &str, v: &Val) {
        self.bad(opt, &["must be ", want, ", not ", v.kind()].concat());
    }

    /// A non-empty string without its surrounding whitespace, or `None` when missing.
    pub fn string(&self, name: Opt) -> Option<String> {
        match &Val::of(self.value(name)) {
            Val::Missing => None,
            Val::Str(s) => {
                let s = crate::core::text::trim(s);
                if s.is_empty() {
                    self.bad(name, "is empty");
                    return None;
                }
                Some(s.to_string())
            }
            v => {
                self.want(name, "a string", v);
                None
            }
        }
    }

    /// [`Reader::string`], empty when missing, and then refused if `required` ([`REQUIRED`] where
    /// the option always is).
    pub fn text(&self, name: Opt, required: bool) -> String {
        self.string(name).unwrap_or_else(|| {
            if required {
                self.bad(name, "is required");
            }
            String::new()
        })
    }

    /// A string or an array of strings, each kept as one value.
    pub fn list(&self, name: Opt) -> Vec<String> {
        match Val::of(self.value(name)) {
            Val::Missing => Vec::new(),
            Val::Str(s) => vec![s],
            Val::List(l) => l,
            v => {
                self.want(name, "a string or an array of strings", &v);
                Vec::new()
            }
        }
    }

    pub fn boolean(&self, name: Opt, default: bool) -> bool {
        match Val::of(self.value(name)) {
            Val::Missing => default,
            Val::Bool(b) => b,
            v => {
                self.want(name, "true or false", &v);
                false
            }
        }
    }

    pub fn number(&self, name: Opt, default: f64) -> f64 {
        match Val::of(self.value(name)) {
            Val::Missing => default,
            Val::Num(n) => n,
            v => {
                self.want(name, "a number", &v);
                0.0
            }
        }
    }

    pub fn map(&self, name: Opt) -> Vec<(String, String)> {
        match Val::of(self.value(name)) {
            Val::Missing => Vec::new(),
            Val::Map(m) => m,
            v => {
                self.want(name, "an object of string values", &v);
                Vec::new()
            }
        }
    }

    /// An object whose `methods` are functions (a store), or `None` when missing.
    pub fn object_with(&self, name: Opt, methods: &[&str], want: &str) -> Option<JsValue> {
        let v = self.value(name);
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
    pub fn state_storage(&self) -> Option<JsValue> {
        self.object_with(
            Opt::StateStorage,
            &["getItem", "setItem", "removeItem"],
            "an object with getItem(), setItem() and removeItem(), like sessionStorage",
        )
    }

    /// The options every class shares.
    pub fn common(&self) -> Options {
        let fetch = self.value(Opt::Fetch);
        let token_store = self.object_with(
            Opt::TokenStore,
            &["get", "set"],
            "an object with get() and set(tokens)",
        );
        let fetch = if fetch.is_null_or_undefined() {
            None
        } else if fetch.is_function() {
            Some(fetch.clone().unchecked_into())
        } else {
            self.bad(
                Opt::Fetch,
                &["must be a function, not ", js_kind(fetch)].concat(),
            );
            None
        };
        let timeout_ms = self.number(Opt::TimeoutMs, 30_000.0);
        let skew = self.number(Opt::RefreshSkewSeconds, 30.0);
        let allow_insecure_http = self.boolean(Opt::AllowInsecureHttp, false);
        let retries = self.number(Opt::MaxRetries, 2.0);
        // A count: 1.5 retries is no setting to round silently.
        if !(0.0..=10.0).contains(&retries) || retries.fract() != 0.0 {
            self.bad(
                Opt::MaxRetries,
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
