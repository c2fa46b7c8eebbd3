//! The one error type. Every failure has a stable [`Code`]; the server's OAuth fields, the HTTP
//! status and Dynatrace's `issueId` travel with it so that callers never have to parse a message.

/// Stable error codes, exposed to JavaScript as the `code` property of `ApmOAuthError`.
/// `Display` writes the same string as [`Code::as_str`] (`invalid_client`). New codes may come:
/// a `match` needs a `_` arm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Code {
    /// Constructor options are missing, of the wrong type or contradict each other; the `fetch`
    /// option answered something that is not a `Response`; or the state storage failed to keep or
    /// give back a sign-in's state.
    InvalidConfig,
    /// A method argument (path, app id, function name, signal, a request's init) is malformed.
    InvalidArgument,
    /// An `http://` URL to a host that is not loopback, or a request to another origin.
    InsecureUrl,
    /// The token endpoint refused the client credentials, or the grant for this client
    /// (`unauthorized_client`).
    InvalidClient,
    /// The token endpoint refused the requested scopes.
    InvalidScope,
    /// Any other refusal by the token endpoint.
    TokenError,
    /// The token endpoint answered success with a body that is not a usable token.
    InvalidResponse,
    /// HTTP 429 from the token endpoint after the retries allowed.
    RateLimited,
    /// HTTP 5xx from the token endpoint after the retries allowed.
    ServerError,
    /// The request could not be sent or the connection broke.
    Network,
    /// An HTTP attempt took longer than `timeoutMs`.
    Timeout,
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// An API call made by a convenience method answered with an error status.
    HttpError,
    /// No usable token for a user: never signed in, signed out, or the refresh token was refused.
    LoginRequired,
    /// The sign-in redirect carried an error, a state this client did not issue or no code, or the
    /// code exchange was refused.
    AuthorizationError,
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Code {
    /// The string form used in JavaScript.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::InvalidConfig => "invalid_config",
            Code::InvalidArgument => "invalid_argument",
            Code::InsecureUrl => "insecure_url",
            Code::InvalidClient => "invalid_client",
            Code::InvalidScope => "invalid_scope",
            Code::TokenError => "token_error",
            Code::InvalidResponse => "invalid_response",
            Code::RateLimited => "rate_limited",
            Code::ServerError => "server_error",
            Code::Network => "network",
            Code::Timeout => "timeout",
            Code::Aborted => "aborted",
            Code::HttpError => "http_error",
            Code::LoginRequired => "login_required",
            Code::AuthorizationError => "authorization_error",
        }
    }

    /// Every code, in documentation order.
    pub const ALL: [Code; 15] = [
        Code::InvalidConfig,
        Code::InvalidArgument,
        Code::InsecureUrl,
        Code::InvalidClient,
        Code::InvalidScope,
        Code::TokenError,
        Code::InvalidResponse,
        Code::RateLimited,
        Code::ServerError,
        Code::Network,
        Code::Timeout,
        Code::Aborted,
        Code::HttpError,
        Code::LoginRequired,
        Code::AuthorizationError,
    ];
}

/// A failure with everything known about it. `message` says what went wrong; `hint` says what to
/// check. Neither ever holds a client secret or an access token (see [`Error::scrub`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// The stable code.
    pub code: Code,
    /// What went wrong, in one sentence.
    pub message: String,
    /// What to check or do about it, when there is something useful to say.
    pub hint: Option<String>,
    /// The HTTP status, when a server answered.
    pub status: Option<u16>,
    /// The OAuth `error` field of the server's answer.
    pub error: Option<String>,
    /// The OAuth `error_description` field of the server's answer.
    pub error_description: Option<String>,
    /// Dynatrace's `issueId`, to quote to Dynatrace support.
    pub issue_id: Option<String>,
    /// Seconds to wait before trying again, from `Retry-After`.
    pub retry_after: Option<f64>,
    /// Set on the failure of a token request that several callers waited for: every copy of it
    /// shares this, so that JavaScript callers get one and the same error object. (An `Arc`,
    /// so that the error is `Send` and `Sync`, as error types are expected to be.)
    pub(crate) shared: Option<std::sync::Arc<()>>,
}

impl Error {
    /// An error with a code and a message and nothing else.
    // One copy per message type: built inline, the struct's nine fields were written out again
    // at each of the many places of the npm build that make an error.
    #[inline(never)]
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            hint: None,
            status: None,
            error: None,
            error_description: None,
            issue_id: None,
            retry_after: None,
            shared: None,
        }
    }

    /// Adds the hint.
    #[inline(never)]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Adds the HTTP status.
    #[inline(never)]
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// The message and the hint as one text, as JavaScript's `Error.message` shows it.
    pub fn full_message(&self) -> String {
        let mut s = String::from(self.message.as_str());
        if let Some(h) = &self.hint {
            // A message that ends with a server's sentence has its full stop already.
            if !s.ends_with('.') {
                s.push('.');
            }
            s.push(' ');
            let mut chars = h.chars();
            if let Some(first) = chars.next() {
                s.push(first.to_ascii_uppercase());
                s.push_str(chars.as_str());
            }
        }
        s
    }

    /// Removes every occurrence of the given secrets from every text the error carries. The
    /// server's `error_description` is quoted to the caller, and a broken or hostile server may
    /// echo what it was sent.
    pub fn scrub<S: AsRef<str>>(mut self, secrets: &[S]) -> Self {
        // Our own wording holds no secret; this pass catches what came from elsewhere. Secrets
        // shorter than a real one (test values such as "wrong") are left, so that they cannot
        // garble the message's own words; server text was already scrubbed of them.
        self.message = scrub_text(&self.message, secrets, 8);
        for field in [
            &mut self.hint,
            &mut self.error,
            &mut self.error_description,
            &mut self.issue_id,
        ] {
            let Some(text) = field else { continue };
            *text = scrub_text(text, secrets, 8);
        }
        self
    }
}

/// Replaces every occurrence of each secret at least `min_len` bytes long by `[redacted]`.
/// Server text is scrubbed before anything quotes or shortens it, so that no cut can leave part
/// of a secret behind.
pub fn scrub_text<S: AsRef<str>>(text: &str, secrets: &[S], min_len: usize) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        let secret = secret.as_ref();
        if secret.len() >= min_len.max(1) {
            out = out.replace(secret, "[redacted]");
        }
    }
    out
}

/// Every form in which a credential may come back in a server's answer: as is, form-urlencoded
/// and percent-encoded (as it was sent in the body), and inside the `Authorization: Basic` value
/// it was sent in. `client_id` is needed for the Basic forms; `b64` is the platform's standard,
/// padded base64 of a text's UTF-8 bytes.
pub fn secret_forms(client_id: &str, secret: &str, b64: &dyn Fn(&str) -> String) -> Vec<String> {
    use super::encoding::{
        basic_client_auth, basic_raw, form_component, path_segment, uri_component,
    };
    // Each form once, longest first, so that a form containing another is replaced whole. (An
    // insertion, not `sort`: the slice sort costs 3 KB of wasm for six strings.)
    fn add(forms: &mut Vec<String>, s: String) {
        if !forms.contains(&s) {
            let at = forms
                .iter()
                .position(|f| f.len() < s.len())
                .unwrap_or(forms.len());
            forms.insert(at, s);
        }
    }
    let mut forms = Vec::new();
    add(&mut forms, secret.to_string());
    let mut form = String::new();
    form_component(secret, &mut form);
    add(&mut forms, form);
    add(&mut forms, path_segment(secret));
    add(&mut forms, uri_component(secret));
    if !client_id.is_empty() {
        add(&mut forms, b64(&basic_client_auth(client_id, secret)));
        add(&mut forms, b64(&basic_raw(client_id, secret)));
    }
    forms
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full_message())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    #[test]
    fn an_error_is_send_and_sync_as_error_types_are_expected_to_be() {
        // (`?` into `anyhow::Error` or `Box<dyn Error + Send + Sync>` needs both.)
        fn send_sync<T: Send + Sync + std::error::Error + 'static>() {}
        send_sync::<Error>();
    }

    #[test]
    fn a_code_displays_as_its_javascript_string() {
        assert_eq!(Code::InvalidClient.to_string(), "invalid_client");
        assert_eq!(
            format!("{}", Code::LoginRequired),
            Code::LoginRequired.as_str()
        );
    }

    #[test]
    fn short_test_secrets_do_not_garble_messages() {
        let e =
            Error::new(Code::InvalidClient, "the client id or secret is wrong").scrub(&["wrong"]);
        assert_eq!(e.message, "the client id or secret is wrong");
        assert_eq!(
            scrub_text("server said wrong", &["wrong"], 4),
            "server said [redacted]"
        );
    }

    #[test]
    fn encoded_forms_of_a_secret_are_scrubbed() {
        let forms = secret_forms("c", "s3cr3t +/ü", &|s| STANDARD.encode(s));
        let mut lengths: Vec<usize> = forms.iter().map(String::len).collect();
        lengths.dedup();
        assert!(lengths.windows(2).all(|w| w[0] > w[1]), "{forms:?}");
        let refs: Vec<&str> = forms.iter().map(String::as_str).collect();
        for echoed in [
            "s3cr3t +/ü",
            "s3cr3t+%2B%2F%C3%BC",
            "s3cr3t%20%2B%2F%C3%BC",
            "YzpzM2NyM3QrJTJCJTJGJUMzJUJD",
            "YzpzM2NyM3QgKy/DvA==",
        ] {
            let e = Error::new(Code::TokenError, format!("echo {echoed}")).scrub(&refs);
            assert_eq!(e.message, "echo [redacted]", "{echoed}");
        }
    }

    #[test]
    fn codes_are_stable_strings() {
        let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            all,
            [
                "invalid_config",
                "invalid_argument",
                "insecure_url",
                "invalid_client",
                "invalid_scope",
                "token_error",
                "invalid_response",
                "rate_limited",
                "server_error",
                "network",
                "timeout",
                "aborted",
                "http_error",
                "login_required",
                "authorization_error"
            ]
        );
    }

    #[test]
    fn scrub_removes_secrets_from_every_field() {
        let mut e = Error::new(Code::TokenError, "bad s3cr3t-value").hint("check s3cr3t-value");
        e.error_description = Some("echo: s3cr3t-value".into());
        e.error = Some("x".into());
        let e = e.scrub(&["s3cr3t-value"]);
        assert_eq!(e.message, "bad [redacted]");
        assert_eq!(e.hint.as_deref(), Some("check [redacted]"));
        assert_eq!(e.error_description.as_deref(), Some("echo: [redacted]"));
        assert_eq!(e.full_message(), "bad [redacted]. Check [redacted]");
        assert_eq!(e.to_string(), e.full_message());
    }

    #[test]
    fn one_full_stop_between_message_and_hint() {
        let e = Error::new(Code::TokenError, "refused: not valid for this client.").hint("check x");
        assert_eq!(
            e.full_message(),
            "refused: not valid for this client. Check x"
        );
        let e = Error::new(Code::TokenError, "refused").hint("check x");
        assert_eq!(e.full_message(), "refused. Check x");
        assert_eq!(
            Error::new(Code::TokenError, "refused.").full_message(),
            "refused."
        );
    }
}
