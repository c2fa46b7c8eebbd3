//! AppDynamics rules: the controller's two generations of token endpoint (form-urlencoded only
//! from 24.10; the vendor content type plus HTTP Basic before 4.5.9) and where the token endpoint
//! is. (The options, `output=JSON` and the expiry of static UI tokens are the client layer's.)

/// The token endpoint's path on a controller.
pub const TOKEN_PATH: &str = "/controller/api/oauth/access_token";

/// What controllers 24.10 and later accept, and the default.
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// What the API Clients page shows (with a form body); older controllers want it.
pub const VENDOR_CONTENT_TYPE: &str = "application/vnd.appd.cntrl+protobuf;v=1";

/// Hint when the controller's token URL answers with something that is not a token endpoint.
pub const TOKEN_URL_HINT: &str = "is controllerUrl the controller's address (https://<account>.saas.appdynamics.com, or http://host:8090 on premises)?";
/// Hint when the controller refuses the credentials.
pub const CREDENTIALS_HINT: &str = "check clientName, accountName (customer1 on single-tenant on-premises controllers) and the API client's secret in Settings > Administration > API Clients";

/// Which content type to send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContentChoice {
    /// Form first, the vendor type when the controller refuses it.
    #[default]
    Auto,
    /// Form only.
    Form,
    /// Vendor type only.
    Vendor,
}

/// Whether to send HTTP Basic as well.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BasicChoice {
    /// Retry a refused request with Basic.
    #[default]
    Auto,
    /// Always.
    On,
    /// Never.
    Off,
}

/// The configured fallbacks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mode {
    /// Content type choice.
    pub content: ContentChoice,
    /// Basic choice.
    pub basic: BasicChoice,
}

/// One way of sending the token request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempt {
    /// Send the vendor content type instead of form-urlencoded.
    pub vendor_type: bool,
    /// Send HTTP Basic as well.
    pub basic: bool,
}

impl Mode {
    /// The first way to try.
    pub fn first(self) -> Attempt {
        Attempt {
            vendor_type: self.content == ContentChoice::Vendor,
            basic: self.basic == BasicChoice::On,
        }
    }

    /// The next way to try after `current` was refused with `status`, if any: a content-type
    /// refusal (400, 406, 415) switches to the vendor type, then a credentials refusal (400, 401,
    /// 403) adds Basic. Other statuses are not about the request's form, so nothing else is tried.
    pub fn next(self, current: Attempt, status: u16) -> Option<Attempt> {
        if self.content == ContentChoice::Auto
            && !current.vendor_type
            && matches!(status, 400 | 406 | 415)
        {
            return Some(Attempt {
                vendor_type: true,
                ..current
            });
        }
        if self.basic == BasicChoice::Auto && !current.basic && matches!(status, 400 | 401 | 403) {
            return Some(Attempt {
                basic: true,
                ..current
            });
        }
        None
    }
}

/// Describes an attempt for error messages ("form-urlencoded", "vendor type + Basic").
pub fn describe(a: Attempt) -> &'static str {
    match (a.vendor_type, a.basic) {
        (false, false) => "form-urlencoded",
        (false, true) => "form-urlencoded + Basic",
        (true, false) => "vendor content type",
        (true, true) => "vendor content type + Basic",
    }
}

/// What to check for another refusal by the controller's token endpoint.
pub fn refusal_hint(status: u16, body: &str) -> Option<String> {
    if status == 415 || super::text::contains(&body.to_ascii_lowercase(), "content type") {
        Some("controllers 24.10 and later accept only form-urlencoded token requests, older ones the vendor type: set tokenContentType to \"auto\" (the default), \"form\" or \"vendor\"".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::oauth::token_request;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;

    use crate::core::config::{AuthMethod, Config, Vendor};
    use crate::core::Secret;

    fn cfg() -> Config {
        Config {
            vendor: Vendor::AppDynamics,
            client_id: "TestApiClient@customer1".into(),
            secret: Some(Secret::new("face10d5-573e-4a75-8396-afa006fd8f19")),
            params: Vec::new(),
            auth: AuthMethod::Post,
            appd: Mode::default(),
        }
    }

    #[test]
    fn modern_request_exact_bytes() {
        let c = cfg();
        let req = token_request(&c, c.appd.first());
        assert_eq!(
            req.headers,
            vec![
                ("Content-Type", FORM_CONTENT_TYPE.to_string()),
                ("Accept", "application/json".to_string())
            ]
        );
        assert_eq!(req.body, "grant_type=client_credentials&client_id=TestApiClient%40customer1&client_secret=face10d5-573e-4a75-8396-afa006fd8f19");
        assert_eq!(req.basic, None);
    }

    #[test]
    fn legacy_request_exact_bytes() {
        let c = cfg();
        let req = token_request(
            &c,
            Attempt {
                vendor_type: true,
                basic: true,
            },
        );
        assert_eq!(
            req.headers,
            vec![
                ("Content-Type", VENDOR_CONTENT_TYPE.to_string()),
                ("Accept", "application/json".to_string()),
            ]
        );
        let basic = req.basic.expect("Basic credentials");
        assert_eq!(
            basic,
            "TestApiClient@customer1:face10d5-573e-4a75-8396-afa006fd8f19"
        );
        assert_eq!(
            STANDARD.encode(basic),
            "VGVzdEFwaUNsaWVudEBjdXN0b21lcjE6ZmFjZTEwZDUtNTczZS00YTc1LTgzOTYtYWZhMDA2ZmQ4ZjE5"
        );
    }

    #[test]
    fn fallback_ladder() {
        let auto = Mode::default();
        let a0 = auto.first();
        assert_eq!(
            a0,
            Attempt {
                vendor_type: false,
                basic: false
            }
        );
        let a1 = auto.next(a0, 415).unwrap();
        assert_eq!(
            a1,
            Attempt {
                vendor_type: true,
                basic: false
            }
        );
        let a2 = auto.next(a1, 401).unwrap();
        assert_eq!(
            a2,
            Attempt {
                vendor_type: true,
                basic: true
            }
        );
        assert_eq!(auto.next(a2, 401), None);
        // A wrong secret on a modern controller: one retry with Basic, then stop.
        assert_eq!(
            auto.next(a0, 401),
            Some(Attempt {
                vendor_type: false,
                basic: true
            })
        );
        assert_eq!(auto.next(a0, 500), None);
        assert_eq!(auto.next(a0, 429), None);
        let strict = Mode {
            content: ContentChoice::Form,
            basic: BasicChoice::Off,
        };
        assert_eq!(strict.next(strict.first(), 415), None);
        assert_eq!(
            Mode {
                content: ContentChoice::Vendor,
                basic: BasicChoice::On
            }
            .first(),
            Attempt {
                vendor_type: true,
                basic: true
            }
        );
    }
}
