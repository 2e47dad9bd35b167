//! What keeps one client or a flood from taking the server down: a request rate per
//! credential (per address before login), a back-off on failed logins per account and per
//! address, and a ceiling on requests in flight beyond which the server sheds (503).

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
    net::IpAddr,
    num::NonZeroU32,
    sync::{
        Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{DefaultKeyedRateLimiter, Quota, clock::Clock};

use crate::error::ApiError;

/// Requests per second per credential (or per address, for requests without one), with
/// bursts of up to a second's worth.
#[derive(Debug)]
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<u64>,
    checks: AtomicU64,
}

/// Forget idle keys once every this many checks, so the table does not grow forever.
const RETAIN_EVERY: u64 = 4096;

impl RateLimit {
    pub fn new(per_second: NonZeroU32) -> Self {
        Self { limiter: DefaultKeyedRateLimiter::keyed(Quota::per_second(per_second)), checks: AtomicU64::new(0) }
    }

    /// Takes one request's worth for `key`, or says how long until there is one.
    fn check(&self, key: u64) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.limiter.retain_recent();
        }
        let now = governor::clock::DefaultClock::default().now();
        self.limiter.check_key(&key).map_err(|not_until| not_until.wait_time_from(now))
    }
}

/// Who a request counts against: its bearer credential, else its address. Only a hash is
/// kept, never the token.
fn rate_key(request: &Request, address: Option<IpAddr>) -> u64 {
    let mut hasher = DefaultHasher::new();
    match request.headers().get(axum::http::header::AUTHORIZATION) {
        Some(credential) => credential.as_bytes().hash(&mut hasher),
        None => address.hash(&mut hasher),
    }
    hasher.finish()
}

pub async fn rate_limited(State(state): State<crate::AppState>, request: Request, next: Next) -> Response {
    if let Some(limit) = state.rate_limit() {
        let key = rate_key(&request, peer(&request));
        if let Err(wait) = limit.check(key) {
            metrics::counter!("stockyard_rate_limited_total").increment(1);
            return ApiError::too_many(wait.as_secs_f64().ceil() as u64).into_response();
        }
    }
    next.run(request).await
}

/// The connecting address, when the server was started with it.
pub fn peer(request: &Request) -> Option<IpAddr> {
    request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip())
}

/// Requests being answered now, against the most allowed; more are shed at once.
#[derive(Debug)]
pub struct InFlight {
    now: AtomicUsize,
    most: usize,
}

impl InFlight {
    pub fn new(most: usize) -> Self {
        Self { now: AtomicUsize::new(0), most }
    }
}

pub async fn shed(State(in_flight): State<std::sync::Arc<InFlight>>, request: Request, next: Next) -> Response {
    if in_flight.now.fetch_add(1, Ordering::AcqRel) >= in_flight.most {
        in_flight.now.fetch_sub(1, Ordering::AcqRel);
        metrics::counter!("stockyard_shed_total").increment(1);
        return ApiError::overloaded(format!("the server is answering {} requests already", in_flight.most))
            .into_response();
    }
    let response = next.run(request).await;
    in_flight.now.fetch_sub(1, Ordering::AcqRel);
    response
}

/// Failed logins tolerated per key before each further try must wait.
const FREE_FAILURES: u32 = 5;
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// Keys kept at most; past this, ones whose wait is over are forgotten.
const MAX_KEYS: usize = 100_000;

/// Back-off on failed logins, per account (any email, existing or not, so the answer does
/// not tell which exist) and per address: after [`FREE_FAILURES`], each failure makes the
/// next try wait, `first_wait` and then twice as long each time. This process's view only:
/// the core backs off per account across every instance too.
#[derive(Debug)]
pub struct LoginThrottle {
    first_wait: Duration,
    failures: Mutex<HashMap<String, Failures>>,
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    until: Instant,
}

impl LoginThrottle {
    pub fn new(first_wait: Duration) -> Self {
        Self { first_wait, failures: Mutex::default() }
    }

    /// How long the caller must wait before trying `keys` again, if at all.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let now = Instant::now();
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        keys.iter().filter_map(|key| failures.get(key)).filter(|f| f.until > now).map(|f| f.until - now).max()
    }

    pub fn failed(&self, keys: &[String]) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() > MAX_KEYS {
            failures.retain(|_, f| f.until > now);
        }
        for key in keys {
            let entry = failures.entry(key.clone()).or_insert(Failures { count: 0, until: now });
            entry.count += 1;
            if entry.count >= FREE_FAILURES {
                let doublings = (entry.count - FREE_FAILURES).min(10);
                entry.until = now + self.first_wait.saturating_mul(1 << doublings).min(MAX_WAIT);
            }
        }
    }

    /// A success clears the account's failures (not the address's: one good password does
    /// not license guessing others).
    pub fn succeeded(&self, account: &str) {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner).remove(account);
    }
}
