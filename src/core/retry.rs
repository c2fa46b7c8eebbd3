//! When to retry a token request and how long to wait: exponential backoff with full jitter,
//! honouring `Retry-After`. API calls are never retried (except the one 401 retry, decided in the
//! client), because a non-idempotent call may already have taken effect.

/// First backoff step.
pub const BASE_DELAY_MS: f64 = 200.0;
/// Largest backoff step.
pub const MAX_DELAY_MS: f64 = 5_000.0;
/// Longest `Retry-After` honoured; a longer one is reported to the caller instead of slept on.
pub const MAX_RETRY_AFTER_MS: f64 = 30_000.0;

/// Statuses worth retrying: rate limited, or a gateway in front of the server failing. 500 is
/// not among them: it usually means the request itself breaks the server.
pub fn retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The wait before retry number `retry` (0 for the first retry), or `None` when no retry should be
/// made. `retry_after_ms` is the server's `Retry-After`; `random` is uniform in `[0, 1)`.
pub fn delay_ms(
    retry: u32,
    max_retries: u32,
    retry_after_ms: Option<f64>,
    random: f64,
) -> Option<f64> {
    if retry >= max_retries {
        return None;
    }
    match retry_after_ms {
        Some(ms) if ms > MAX_RETRY_AFTER_MS => None,
        Some(ms) => Some(ms.max(0.0)),
        None => {
            let cap = (BASE_DELAY_MS * f64::from(1u32 << retry.min(16))).min(MAX_DELAY_MS);
            Some((random.clamp(0.0, 1.0) * cap).floor())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_with_full_jitter() {
        assert_eq!(delay_ms(0, 2, None, 0.999), Some(199.0));
        assert_eq!(delay_ms(1, 2, None, 0.5), Some(200.0));
        assert_eq!(delay_ms(2, 2, None, 0.5), None);
        assert_eq!(delay_ms(9, 10, None, 1.0), Some(MAX_DELAY_MS));
        assert_eq!(delay_ms(0, 0, None, 0.5), None);
    }

    #[test]
    fn retry_after_wins_and_is_capped() {
        assert_eq!(delay_ms(0, 2, Some(1_000.0), 0.1), Some(1_000.0));
        assert_eq!(delay_ms(0, 2, Some(31_000.0), 0.1), None);
    }

    #[test]
    fn retryable_statuses() {
        assert!(
            retryable_status(503)
                && retryable_status(429)
                && !retryable_status(500)
                && !retryable_status(401)
        );
    }
}
