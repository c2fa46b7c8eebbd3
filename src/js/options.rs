//! The constructors' options objects, read with serde-wasm-bindgen: each class's options are one
//! `#[derive(Deserialize)]` struct whose fields take any value ([`Val`]), so that serde never
//! refuses one and the checks below word every problem as the documentation does ("clientId must
//! be a string, not a number"). Unknown names are refused first, against the class's list, with
//! the closest known name as a suggestion: serde-wasm-bindgen reads a struct's own fields by name
//! and never sees the others, so serde's unknown-field error cannot be had from it.

use js_sys::{Array, Object};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
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
}

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }
    fn visit_unit<E>(self) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_none<E>(self) -> Result<Val, E> {
        Ok(Val::Missing)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Val, D::Error> {
        Val::deserialize(d)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Val, E> {
        Ok(Val::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Val, E> {
        Ok(Val::Num(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Val, E> {
        Ok(Val::Num(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Val, E> {
        Ok(Val::Num(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Val, E> {
        Ok(Val::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Val, E> {
        Ok(Val::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val, A::Error> {
        let mut out = Vec::new();
        let mut strings = true;
        while let Some(v) = seq.next_element::<Val>()? {
            match v {
                Val::Str(s) => out.push(s),
                _ => strings = false,
            }
        }
        Ok(if strings {
            Val::List(out)
        } else {
            Val::BadList
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val, A::Error> {
        let mut out = Vec::new();
        let mut strings = true;
        while let Some((k, v)) = map.next_entry::<String, Val>()? {
            match v {
                Val::Str(s) => out.push((k, s)),
                _ => strings = false,
            }
        }
        Ok(if strings { Val::Map(out) } else { Val::BadMap })
    }
}

impl<'de> Deserialize<'de> for Val {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Val, D::Error> {
        // Never an error: a value serde cannot read (a function, a symbol) is "another type".
        Ok(d.deserialize_any(ValVisitor).unwrap_or(Val::Other))
    }
}

/// The options every class takes, after its own.
pub(crate) const COMMON: [&str; 6] = [
    "fetch",
    "tokenStore",
    "timeoutMs",
    "refreshSkewSeconds",
    "allowInsecureHttp",
    "maxRetries",
];

/// The options whose values are JavaScript objects with methods, taken as they are.
#[derive(Default)]
pub(crate) struct Raw {
    pub fetch: JsValue,
    pub token_store: JsValue,
    pub state_storage: JsValue,
}

/// Reads `options` into `T`, refusing a value that is not an object and unknown names (with the
/// closest known one as a suggestion).
fn read<T: de::DeserializeOwned>(
    class: &str,
    known: &[&'static str],
    options: &JsValue,
) -> Result<(T, Raw), Error> {
    let entries = entries(class, known, options)?;
    let mut raw = Raw::default();
    for e in entries.iter() {
        let pair: Array = e.unchecked_into();
        match pair.get(0).as_string().as_deref() {
            Some("fetch") => raw.fetch = pair.get(1),
            Some("tokenStore") => raw.token_store = pair.get(1),
            Some("stateStorage") => raw.state_storage = pair.get(1),
            _ => {}
        }
    }
    // Every value reads as a `Val` and every name is known by now: serde has nothing to refuse.
    let options =
        serde_wasm_bindgen::from_value::<T>(options.clone()).map_err(|_| needs_object(class))?;
    Ok((options, raw))
}

fn needs_object(class: &str) -> Error {
    Error::new(
        Code::InvalidConfig,
        format!(
            "{class} needs an options object, e.g. new {class}({{ clientId, clientSecret, ... }})"
        ),
    )
}

/// The entries of `options`, once it is known to be an object with known names only.
fn entries(class: &str, known: &[&'static str], options: &JsValue) -> Result<Array, Error> {
    if !options.is_object() || Array::is_array(options) {
        return Err(needs_object(class));
    }
    let entries = Object::entries(options.unchecked_ref());
    let all: Vec<&'static str> = known.iter().chain(COMMON.iter()).copied().collect();
    for e in entries.iter() {
        let name = e
            .unchecked_into::<Array>()
            .get(0)
            .as_string()
            .unwrap_or_default();
        if all.contains(&name.as_str()) {
            continue;
        }
        let mut m = format!("{class}: unknown option \"{}\"", text::snippet(&name, 40));
        if let Some(s) = suggest(&name, &all) {
            m.push_str(" (did you mean \"");
            m.push_str(s);
            m.push_str("\"?)");
        }
        return Err(Error::new(Code::InvalidConfig, m));
    }
    Ok(entries)
}

/// A class's options struct: the options every class shares are among its fields.
pub(crate) trait ClassOptions: de::DeserializeOwned {
    /// `timeoutMs`, `refreshSkewSeconds`, `allowInsecureHttp`, `maxRetries`.
    fn common(&self) -> [&Val; 4];
}

/// Reads a class's options: its struct, the reader of its checks, and the shared options
/// checked (`fetch` and `tokenStore` among them); the raw values of the others stay in `Raw`.
pub(crate) fn begin<T: ClassOptions>(
    class: &'static str,
    known: &[&'static str],
    options: &JsValue,
) -> Result<(T, Reader, Options, Raw), Error> {
    let (o, raw) = read::<T>(class, known, options)?;
    let r = Reader { class };
    let [timeout_ms, skew, insecure, retries] = o.common();
    let common = r.common(&raw, timeout_ms, skew, insecure, retries)?;
    Ok((o, r, common, raw))
}

/// Checks of one class's option values, worded with its name.
pub(crate) struct Reader {
    pub class: &'static str,
}

impl Reader {
    fn bad(&self, name: &str, what: &str) -> Error {
        crate::client::bad(self.class, name, what)
    }

    fn want(&self, name: &str, want: &str, v: &Val) -> Error {
        self.bad(name, &format!("must be {want}, not {}", v.kind()))
    }

    /// A non-empty string without its surrounding whitespace, or `None` when missing.
    pub fn string(&self, name: &str, v: &Val) -> Result<Option<String>, Error> {
        match v {
            Val::Missing => Ok(None),
            Val::Str(s) if s.trim().is_empty() => Err(self.bad(name, "is empty")),
            Val::Str(s) => Ok(Some(s.trim().to_string())),
            _ => Err(self.want(name, "a string", v)),
        }
    }

    pub fn required(&self, name: &str, v: &Val) -> Result<String, Error> {
        self.string(name, v)?
            .ok_or_else(|| self.bad(name, "is required"))
    }

    /// A string or an array of strings, each kept as one value.
    pub fn list(&self, name: &str, v: &Val) -> Result<Vec<String>, Error> {
        match v {
            Val::Missing => Ok(Vec::new()),
            Val::Str(s) => Ok(vec![s.clone()]),
            Val::List(l) => Ok(l.clone()),
            _ => Err(self.want(name, "a string or an array of strings", v)),
        }
    }

    pub fn boolean(&self, name: &str, v: &Val, default: bool) -> Result<bool, Error> {
        match v {
            Val::Missing => Ok(default),
            Val::Bool(b) => Ok(*b),
            _ => Err(self.want(name, "true or false", v)),
        }
    }

    pub fn number(&self, name: &str, v: &Val, default: f64) -> Result<f64, Error> {
        match v {
            Val::Missing => Ok(default),
            Val::Num(n) => Ok(*n),
            _ => Err(self.want(name, "a number", v)),
        }
    }

    pub fn map(&self, name: &str, v: &Val) -> Result<Vec<(String, String)>, Error> {
        match v {
            Val::Missing => Ok(Vec::new()),
            Val::Map(m) => Ok(m.clone()),
            _ => Err(self.want(name, "an object of string values", v)),
        }
    }

    /// The options every class shares.
    /// An object whose `methods` are functions (a store), or `None` when missing.
    pub fn object_with(
        &self,
        name: &str,
        v: &JsValue,
        methods: &[&str],
        want: &str,
    ) -> Result<Option<JsValue>, Error> {
        if v.is_null_or_undefined() {
            return Ok(None);
        }
        if (v.is_object() || v.is_function())
            && methods
                .iter()
                .all(|m| crate::client::platform::get(v, m).is_function())
        {
            return Ok(Some(v.clone()));
        }
        Err(self.bad(name, &format!("must be {want}")))
    }

    /// `stateStorage`: an object with the methods of `sessionStorage`, or `None`.
    pub fn state_storage(&self, raw: &Raw) -> Result<Option<JsValue>, Error> {
        self.object_with(
            "stateStorage",
            &raw.state_storage,
            &["getItem", "setItem", "removeItem"],
            "an object with getItem(), setItem() and removeItem(), like sessionStorage",
        )
    }

    pub fn common(
        &self,
        raw: &Raw,
        timeout_ms: &Val,
        refresh_skew_seconds: &Val,
        allow_insecure_http: &Val,
        max_retries: &Val,
    ) -> Result<Options, Error> {
        let fetch = &raw.fetch;
        let token_store = self.object_with(
            "tokenStore",
            &raw.token_store,
            &["get", "set"],
            "an object with get() and set(tokens)",
        )?;
        let fetch = if fetch.is_null_or_undefined() {
            None
        } else if fetch.is_function() {
            Some(fetch.clone().unchecked_into())
        } else {
            return Err(self.bad(
                "fetch",
                &format!("must be a function, not {}", js_kind(fetch)),
            ));
        };
        let timeout_ms = self.number("timeoutMs", timeout_ms, 30_000.0)?;
        let skew = self.number("refreshSkewSeconds", refresh_skew_seconds, 30.0)?;
        let allow_insecure_http = self.boolean("allowInsecureHttp", allow_insecure_http, false)?;
        let retries = self.number("maxRetries", max_retries, 2.0)?;
        if !(0.0..=10.0).contains(&retries) {
            return Err(self.bad("maxRetries", "must be a number from 0 to 10"));
        }
        Ok(Options {
            fetch,
            timeout_ms,
            refresh_skew_seconds: skew,
            max_retries: retries.trunc() as u32,
            allow_insecure_http,
            token_store,
        })
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

/// The raw secrets of an options object, trimmed: no error about it may quote them.
pub(crate) fn raw_secrets(options: &JsValue) -> Vec<String> {
    ["clientSecret", "accessToken", "platformToken"]
        .iter()
        .filter_map(|k| crate::client::platform::get(options, k).as_string())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}
