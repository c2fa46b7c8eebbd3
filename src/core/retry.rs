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

/// Reads `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as ms from `now_ms`.
pub fn parse_retry_after(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(v.parse::<u64>().ok()? as f64 * 1000.0);
    }
    let at = parse_http_date(v)?;
    Some((at - now_ms).max(0.0))
}

/// Parses the IMF-fixdate form, `Sun, 06 Nov 1994 08:49:37 GMT`, into ms since the epoch.
pub fn parse_http_date(s: &str) -> Option<f64> {
    let rest = &s[super::text::find(s, ", ")? + 2..];
    let mut it = rest.split(' ');
    let day: i64 = it.next()?.parse().ok()?;
    let month_name = it.next()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month_name)? as i64
        + 1;
    let year: i64 = it.next()?.parse().ok()?;
    let mut hms = it.next()?.split(':').map(|p| p.parse::<i64>().ok());
    let (h, m, sec) = (hms.next()??, hms.next()??, hms.next()??);
    if it.next()? != "GMT"
        || it.next().is_some()
        || !(1..=31).contains(&day)
        || h > 23
        || m > 59
        || sec > 60
    {
        return None;
    }
    // HTTP dates have four-digit years; anything else is not a date (and could overflow).
    if !(1..=9999).contains(&year) || h < 0 || m < 0 || sec < 0 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + m * 60 + sec) * 1000) as f64)
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
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("3", 0.0), Some(3_000.0));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_770_000.0),
            Some(7_000.0)
        );
        assert_eq!(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0.0));
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT"),
            Some(1_835_438_400_000.0)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 9e12),
            Some(0.0)
        );
        for bad in [
            "",
            "-1",
            "1.5",
            "soon",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 32 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(parse_retry_after(bad, 0.0), None, "{bad}");
        }
        assert!(
            retryable_status(503)
                && retryable_status(429)
                && !retryable_status(500)
                && !retryable_status(401)
        );
    }
}
