//! The token cache's one timing rule, with the clock passed in. The cache itself (the current
//! token, its generation and the single request in flight) lives in the client layer.

/// When a token with `lifetime_ms` that expires at `expires_at_ms` is refreshed: `skew_ms` before
/// expiry, but never more than half the lifetime, so a short-lived token is not refreshed on every
/// call (a leeway longer than the lifetime is a known bug of other clients). A token with no
/// lifetime (`expires_in` 0 or negative) gets `expires_at_ms` itself: it serves the calls that
/// waited for it and is never fresh for a later one.
pub fn refresh_at(expires_at_ms: f64, lifetime_ms: f64, skew_ms: f64) -> f64 {
    expires_at_ms - skew_ms.min(lifetime_ms / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_never_more_than_half_the_lifetime() {
        assert_eq!(refresh_at(10_000.0, 10_000.0, 30_000.0), 5_000.0);
        assert_eq!(refresh_at(300_000.0, 300_000.0, 30_000.0), 270_000.0);
        assert_eq!(refresh_at(300_000.0, 300_000.0, 0.0), 300_000.0);
        assert_eq!(refresh_at(2_000.0, 2_000.0, 30_000.0), 1_000.0);
        assert_eq!(refresh_at(5.0, 0.0, 30_000.0), 5.0);
    }
}
