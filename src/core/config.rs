//! What the core needs to know about a client to build its token requests: whose rules apply,
//! its credentials and the form parameters. The client layer reads and checks the options
//! object (types, names, URLs) and hands over these plain values.

use super::appdynamics::Mode;
use super::secret::Secret;

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

/// How client credentials are sent (RFC 6749 §2.3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// In the form body.
    Post,
    /// In an `Authorization: Basic` header.
    Basic,
}

/// Everything a token request is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Whose rules apply.
    pub vendor: Vendor,
    /// The client id as sent (AppDynamics: `name@account`).
    pub client_id: String,
    /// The client secret.
    pub secret: Option<Secret>,
    /// Form parameters after the credentials: scope, resource, audience, extra ones.
    pub params: Vec<(String, String)>,
    /// How credentials are sent (Dynatrace and generic servers).
    pub auth: AuthMethod,
    /// AppDynamics content-type and Basic fallbacks.
    pub appd: Mode,
}
