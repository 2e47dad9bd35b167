//! What every handler shares: the store, and the bounded way to call it. The core is
//! synchronous, so each call runs on tokio's blocking pool — never on an async worker
//! thread — and at most as many at once as the store has connections; a request that
//! cannot get a turn in time is shed (503) rather than queued without bound.

use std::{sync::Arc, time::Duration};

use stockyard_core::{Actor, Result as CoreResult, Store};
use tokio::sync::Semaphore;

use crate::{
    error::{ApiError, ApiResult},
    extract::Caller,
    feed::Pump,
    limits::{LoginThrottle, RateLimit},
    settings::Settings,
};

#[derive(Clone, Debug)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// Always there: only `drop` takes it (see there).
    store: Option<Store>,
    /// One permit per pooled connection: calls into the core beyond these wait.
    core_slots: Arc<Semaphore>,
    /// How long a call may wait for a turn before it is shed.
    queue_timeout: Duration,
    rate_limit: Option<RateLimit>,
    logins: LoginThrottle,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    shutdown: tokio::sync::watch::Receiver<bool>,
    feed: Arc<Pump>,
    heartbeat: Duration,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.feed.stop();
        // The last handle on a PostgreSQL pool closes its connections by blocking on a
        // runtime of their own, which panics on a thread of the server's runtime, where
        // the state usually goes: it goes on a thread of its own instead.
        if let Some(store) = self.store.take() {
            let _ = std::thread::spawn(move || drop(store)).join();
        }
    }
}

impl AppState {
    pub fn new(
        store: Store,
        settings: &Settings,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self(Arc::new(Inner {
            core_slots: Arc::new(Semaphore::new(settings.pool_size as usize)),
            queue_timeout: settings.queue_timeout,
            rate_limit: settings.rate_limit.map(RateLimit::new),
            logins: LoginThrottle::new(settings.login_backoff),
            store: Some(store),
            metrics,
            shutdown,
            feed: Arc::default(),
            heartbeat: settings.heartbeat,
        }))
    }

    pub fn store(&self) -> &Store {
        self.0.store.as_ref().expect("the store lives as long as the state")
    }

    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.0.rate_limit.as_ref()
    }

    pub fn logins(&self) -> &LoginThrottle {
        &self.0.logins
    }

    pub fn metrics(&self) -> Option<&metrics_exporter_prometheus::PrometheusHandle> {
        self.0.metrics.as_ref()
    }

    /// Turns true when the server is stopping: long-lived streams end.
    pub fn shutdown(&self) -> tokio::sync::watch::Receiver<bool> {
        self.0.shutdown.clone()
    }

    /// The newest committed seq, for event streams.
    pub fn feed_pump(&self) -> &Arc<Pump> {
        &self.0.feed
    }

    /// How often an event stream says it is alive.
    pub fn heartbeat(&self) -> Duration {
        self.0.heartbeat
    }

    /// Authenticates `caller` and runs `call` as it, in one turn on the blocking pool.
    pub async fn act<T, F>(&self, caller: Caller, call: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store, &Actor) -> CoreResult<T> + Send + 'static,
    {
        self.call(move |store| call(store, &caller.authenticate(store)?)).await
    }

    /// Runs `call` against the store on the blocking pool, once a connection's worth of
    /// room is free.
    pub async fn call<T, F>(&self, call: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> CoreResult<T> + Send + 'static,
    {
        let started = std::time::Instant::now();
        let permit = tokio::time::timeout(self.0.queue_timeout, Arc::clone(&self.0.core_slots).acquire_owned())
            .await
            .map_err(|_| ApiError::overloaded("every database connection is busy: try again shortly"))?
            .map_err(|_| ApiError::overloaded("the server is shutting down"))?;
        metrics::histogram!("stockyard_core_wait_seconds").record(started.elapsed().as_secs_f64());
        let store = self.store().clone();
        let outcome = tokio::task::spawn_blocking(move || {
            let _turn = permit;
            call(&store)
        })
        .await
        .map_err(|e| ApiError::from(stockyard_core::Error::internal_from("a core call panicked", e)))?;
        Ok(outcome?)
    }
}
