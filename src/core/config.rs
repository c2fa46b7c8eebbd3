//! Constructor options: read from a plain description of the JavaScript options object, checked
//! before any IO, turned into one [`Config`] that the rest of the client runs on.

use super::appdynamics::Mode;
use super::error::{Code, Error};
use super::secret::Secret;
use super::text::cat;
use super::url::Origin;

/// Which server's rules and wording apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vendor {
    /// Dynatrace SSO and platform.
    Dynatrace,
    /// Cisco AppDynamics controller.
    AppDynamics,
    /// Any RFC 6749 server.
    Generic,
}

/// One option value as JavaScript gave it.
#[derive(Clone, Debug, PartialEq)]
pub enum Raw {
    /// `undefined` or `null`.
    Missing,
    /// A string.
    Str(String),
    /// A number.
    Num(f64),
    /// A boolean.
    Bool(bool),
    /// An array of strings.
    List(Vec<String>),
    /// A plain object whose values are all strings.
    Map(Vec<(String, String)>),
    /// A function (only `fetch` may be one).
    Function,
    /// Anything else, with its JavaScript type name.
    Other(&'static str),
}

/// The options object: names in the order given.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawOptions(pub Vec<(String, Raw)>);

/// How client credentials are sent (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// In the form body.
    Post,
    /// In an `Authorization: Basic` header.
    Basic,
}

/// The options every client shares.
#[derive(Clone, Debug, PartialEq)]
pub struct Common {
    /// Per HTTP attempt.
    pub timeout_ms: f64,
    /// How long before expiry a token is refreshed (capped at half its lifetime).
    pub skew_ms: f64,
    /// Plain HTTP to hosts that are not loopback.
    pub allow_insecure_http: bool,
    /// Retries of a token request after a network error, 429 or 502/503/504.
    pub max_retries: u32,
}

/// Everything a client runs on, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Whose rules apply.
    pub vendor: Vendor,
    /// The token endpoint (empty with a static token).
    pub token_url: String,
    /// The client id as sent (AppDynamics: `name@account`).
    pub client_id: String,
    /// The client secret.
    pub secret: Option<Secret>,
    /// A token used as is (AppDynamics UI tokens); no token requests are made.
    pub static_token: Option<Secret>,
    /// Form parameters after the credentials: scope, resource, audience, extra ones.
    pub params: Vec<(String, String)>,
    /// How credentials are sent (Dynatrace and generic servers).
    pub auth: AuthMethod,
    /// AppDynamics content-type and Basic fallbacks.
    pub appd: Mode,
    /// The origin `fetch` calls go to, when configured.
    pub api_origin: Option<Origin>,
    /// Shared options.
    pub common: Common,
}

/// Reads options by name and refuses unknown ones, suggesting the name that was probably meant.
pub struct Reader<'a> {
    class: &'static str,
    opts: &'a RawOptions,
}

impl<'a> Reader<'a> {
    /// Checks that every given name is one of `known` (plus the shared ones).
    pub fn new(class: &'static str, opts: &'a RawOptions, known: &[&str]) -> Result<Self, Error> {
        let all: Vec<&str> = known.iter().copied().chain(COMMON).collect();
        for (name, _) in &opts.0 {
            if !all.contains(&name.as_str()) {
                let mut msg = cat(&[
                    class,
                    ": unknown option \"",
                    &super::text::snippet(name, 40),
                    "\"",
                ]);
                if let Some(s) = suggest(name, &all) {
                    msg.push_str(" (did you mean \"");
                    msg.push_str(s);
                    msg.push_str("\"?)");
                }
                return Err(Error::new(Code::InvalidConfig, msg));
            }
        }
        Ok(Reader { class, opts })
    }

    fn get(&self, name: &str) -> &'a Raw {
        self.opts
            .0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
            .unwrap_or(&Raw::Missing)
    }

    /// An error about one option.
    pub fn bad(&self, name: &str, what: &str) -> Error {
        Error::new(
            Code::InvalidConfig,
            cat(&[self.class, ": ", name, " ", what]),
        )
    }

    fn type_error(&self, name: &str, want: &str, raw: &Raw) -> Error {
        let got = match raw {
            Raw::Missing => "missing",
            Raw::Str(_) => "a string",
            Raw::Num(_) => "a number",
            Raw::Bool(_) => "a boolean",
            Raw::List(_) => "an array",
            Raw::Map(_) => "an object",
            Raw::Function => "a function",
            Raw::Other(t) => t,
        };
        self.bad(name, &cat(&["must be ", want, ", not ", got]))
    }

    /// A non-empty string, or `None` when missing. Surrounding whitespace is removed (pasted
    /// credentials often end with a newline).
    pub fn string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.get(name) {
            Raw::Missing => Ok(None),
            Raw::Str(s) if s.trim().is_empty() => Err(self.bad(name, "is empty")),
            Raw::Str(s) => Ok(Some(s.trim().to_string())),
            other => Err(self.type_error(name, "a string", other)),
        }
    }

    /// A required non-empty string.
    pub fn required(&self, name: &str) -> Result<String, Error> {
        self.string(name)?
            .ok_or_else(|| self.bad(name, "is required"))
    }

    /// A string or an array of strings, joined by spaces (OAuth scope syntax, RFC 6749 §3.3).
    pub fn words(&self, name: &str) -> Result<Option<String>, Error> {
        let list: Vec<String> = match self.get(name) {
            Raw::Missing => return Ok(None),
            Raw::Str(s) => s.split_ascii_whitespace().map(str::to_string).collect(),
            Raw::List(l) => l
                .iter()
                .flat_map(|s| s.split_ascii_whitespace())
                .map(str::to_string)
                .collect(),
            other => return Err(self.type_error(name, "a string or an array of strings", other)),
        };
        Ok((!list.is_empty()).then(|| list.join(" ")))
    }

    /// A string or an array of strings, each kept as one value.
    pub fn list(&self, name: &str) -> Result<Vec<String>, Error> {
        match self.get(name) {
            Raw::Missing => Ok(Vec::new()),
            Raw::Str(s) => Ok(vec![s.trim().to_string()]),
            Raw::List(l) => Ok(l
                .iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()),
            other => Err(self.type_error(name, "a string or an array of strings", other)),
        }
    }

    /// A boolean, or `default` when missing.
    pub fn boolean(&self, name: &str, default: bool) -> Result<bool, Error> {
        match self.get(name) {
            Raw::Missing => Ok(default),
            Raw::Bool(b) => Ok(*b),
            other => Err(self.type_error(name, "true or false", other)),
        }
    }

    /// A string among `choices`, a boolean mapped by the caller, or missing.
    pub fn raw(&self, name: &str) -> &'a Raw {
        self.get(name)
    }

    /// A finite number in `[min, max]`, or `default` when missing.
    pub fn number(&self, name: &str, default: f64, min: f64, max: f64) -> Result<f64, Error> {
        match self.get(name) {
            Raw::Missing => Ok(default),
            Raw::Num(n) if n.is_finite() && *n >= min && *n <= max => Ok(*n),
            Raw::Num(_) => Err(self.bad(
                name,
                &cat(&["must be a number from ", &num(min), " to ", &num(max)]),
            )),
            other => Err(self.type_error(name, "a number", other)),
        }
    }

    /// A string-to-string object.
    pub fn map(&self, name: &str) -> Result<Vec<(String, String)>, Error> {
        match self.get(name) {
            Raw::Missing => Ok(Vec::new()),
            Raw::Map(m) => Ok(m.clone()),
            other => Err(self.type_error(name, "an object of string values", other)),
        }
    }

    /// The options every client shares.
    pub fn common(&self) -> Result<Common, Error> {
        if !matches!(self.get("fetch"), Raw::Missing | Raw::Function) {
            return Err(self.type_error("fetch", "a function", self.get("fetch")));
        }
        Ok(Common {
            timeout_ms: self.number("timeoutMs", 30_000.0, 1.0, 2_147_483_647.0)?,
            skew_ms: self.number("refreshSkewSeconds", 30.0, 0.0, 86_400.0)? * 1000.0,
            allow_insecure_http: self.boolean("allowInsecureHttp", false)?,
            max_retries: self.number("maxRetries", 2.0, 0.0, 10.0)? as u32,
        })
    }
}

/// Options every client accepts.
pub const COMMON: [&str; 5] = [
    "fetch",
    "timeoutMs",
    "refreshSkewSeconds",
    "allowInsecureHttp",
    "maxRetries",
];

fn num(n: f64) -> String {
    super::text::u64_str(n as u64)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect::<String>()
        .trim_end_matches('s')
        .to_string()
}

/// The known name closest to a mistyped one: same letters ignoring case, `_`/`-` and a plural
/// `s` (`client_id` → `clientId`, `scopes` → `scope`), or one contains the other.
pub fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let n = normalise(name);
    if n.len() < 3 {
        return None;
    }
    known
        .iter()
        .copied()
        .find(|k| normalise(k) == n)
        .or_else(|| {
            known.iter().copied().find(|k| {
                let k = normalise(k);
                k.len() >= 4 && (super::text::contains(&k, &n) || super::text::contains(&n, &k))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(v: &[(&str, Raw)]) -> RawOptions {
        RawOptions(v.iter().map(|(k, r)| (k.to_string(), r.clone())).collect())
    }

    #[test]
    fn unknown_options_are_refused_with_a_suggestion() {
        let o = opts(&[("client_id", Raw::Str("x".into()))]);
        let e = Reader::new("DynatraceClient", &o, &["clientId", "clientSecret"])
            .err()
            .unwrap();
        assert_eq!(e.code, Code::InvalidConfig);
        assert_eq!(
            e.message,
            "DynatraceClient: unknown option \"client_id\" (did you mean \"clientId\"?)"
        );
        assert_eq!(suggest("scopes", &["scope", "resource"]), Some("scope"));
        assert_eq!(suggest("timeout", &["timeoutMs"]), Some("timeoutMs"));
        assert_eq!(suggest("xyz", &["scope"]), None);
    }

    #[test]
    fn types_and_ranges() {
        let o = opts(&[
            ("clientId", Raw::Num(3.0)),
            ("timeoutMs", Raw::Num(-1.0)),
            ("scope", Raw::List(vec!["a b".into(), "c".into()])),
        ]);
        let r = Reader::new("C", &o, &["clientId", "scope"]).unwrap();
        assert_eq!(
            r.string("clientId").unwrap_err().message,
            "C: clientId must be a string, not a number"
        );
        assert_eq!(
            r.common().unwrap_err().message,
            "C: timeoutMs must be a number from 1 to 2147483647"
        );
        assert_eq!(r.words("scope").unwrap().as_deref(), Some("a b c"));
        assert_eq!(
            r.required("clientSecret").unwrap_err().message,
            "C: clientSecret is required"
        );
    }

    #[test]
    fn defaults() {
        let o = RawOptions::default();
        let c = Reader::new("C", &o, &[]).unwrap().common().unwrap();
        assert_eq!(
            c,
            Common {
                timeout_ms: 30_000.0,
                skew_ms: 30_000.0,
                allow_insecure_http: false,
                max_retries: 2
            }
        );
    }
}
