//! The token cache's decisions, with the clock passed in. The single-flight of token requests
//! lives in the binding (it needs a shared Promise); what is fresh, when to refresh and which
//! token a 401 may invalidate are decided here.

use super::token::Token;

/// What the cache holds for a caller at `now`.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    /// A token to use, with its generation.
    Fresh(&'a Token, u64),
    /// A token that reached its refresh time: get a new one (counts as an early refresh).
    Stale,
    /// No token: get one.
    Empty,
}

/// One client's token and the generation counter that tells tokens apart.
#[derive(Debug, Default)]
pub struct TokenCache {
    current: Option<(Token, u64, f64)>,
    generation: u64,
}

/// When a token with `lifetime_ms` that expires at `expires_at_ms` is refreshed: `skew_ms` before
/// expiry, but never more than half the lifetime, so a short-lived token is not refreshed on every
/// call (a leeway longer than the lifetime is a known bug of other clients).
pub fn refresh_at(expires_at_ms: f64, lifetime_ms: f64, skew_ms: f64) -> f64 {
    expires_at_ms - skew_ms.min(lifetime_ms / 2.0)
}

impl TokenCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// What a caller at `now_ms` should do.
    pub fn lookup(&self, now_ms: f64) -> Lookup<'_> {
        match &self.current {
            Some((t, g, at)) if now_ms < *at => Lookup::Fresh(t, *g),
            Some(_) => Lookup::Stale,
            None => Lookup::Empty,
        }
    }

    /// Stores a new token and returns its generation. A token with no lifetime left is kept for
    /// [`TokenCache::get`] by the callers that waited for it, but is never fresh.
    pub fn store(&mut self, token: Token, skew_ms: f64) -> u64 {
        self.generation += 1;
        let at = refresh_at(token.expires_at_ms, token.lifetime_ms, skew_ms);
        self.current = Some((token, self.generation, at));
        self.generation
    }

    /// The token of generation `g`, if it is still the current one, fresh or not.
    pub fn get(&self, g: u64) -> Option<&Token> {
        match &self.current {
            Some((t, cg, _)) if *cg == g => Some(t),
            _ => None,
        }
    }

    /// Forgets the token of generation `g`, and only that one: when several calls get a 401 with
    /// the same token, the first invalidates it and the others find the new one already there
    /// (or in flight) instead of throwing it away again.
    pub fn invalidate(&mut self, g: u64) -> bool {
        if matches!(&self.current, Some((_, cg, _)) if *cg == g) {
            self.current = None;
            true
        } else {
            false
        }
    }

    /// Forgets whatever token there is.
    pub fn clear(&mut self) {
        self.current = None;
    }

    /// The current generation (the last one stored).
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Secret;

    fn token(now: f64, lifetime_s: f64) -> Token {
        Token {
            access_token: Secret::new("t"),
            token_type: "Bearer",
            expires_at_ms: now + lifetime_s * 1000.0,
            lifetime_ms: lifetime_s * 1000.0,
            scope: None,
            resource: None,
        }
    }

    #[test]
    fn fresh_until_skew_then_stale() {
        let mut c = TokenCache::new();
        assert_eq!(c.lookup(0.0), Lookup::Empty);
        let g = c.store(token(0.0, 300.0), 30_000.0);
        assert!(matches!(c.lookup(269_999.0), Lookup::Fresh(_, x) if x == g));
        assert_eq!(c.lookup(270_000.0), Lookup::Stale);
    }

    #[test]
    fn skew_never_more_than_half_the_lifetime() {
        assert_eq!(refresh_at(10_000.0, 10_000.0, 30_000.0), 5_000.0);
        assert_eq!(refresh_at(300_000.0, 300_000.0, 30_000.0), 270_000.0);
        assert_eq!(refresh_at(300_000.0, 300_000.0, 0.0), 300_000.0);
        let mut c = TokenCache::new();
        c.store(token(0.0, 2.0), 30_000.0);
        assert!(matches!(c.lookup(999.0), Lookup::Fresh(..)));
        assert_eq!(c.lookup(1_000.0), Lookup::Stale);
    }

    #[test]
    fn zero_lifetime_is_never_fresh_but_reaches_its_waiters() {
        let mut c = TokenCache::new();
        let g = c.store(token(5.0, 0.0), 30_000.0);
        assert_eq!(c.lookup(5.0), Lookup::Stale);
        assert!(c.get(g).is_some());
    }

    #[test]
    fn invalidate_only_the_generation_used() {
        let mut c = TokenCache::new();
        let g1 = c.store(token(0.0, 300.0), 0.0);
        assert!(c.invalidate(g1));
        let g2 = c.store(token(0.0, 300.0), 0.0);
        assert!(
            !c.invalidate(g1),
            "a late 401 with the old token must not drop the new one"
        );
        assert!(c.get(g2).is_some());
        assert_eq!(c.generation(), g2);
    }
}
