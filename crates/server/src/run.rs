//! `stockyard serve`: the API on a socket and the background workers on threads of their
//! own, until SIGTERM or Ctrl-C — then no new connections, in-flight requests finish,
//! event streams end, and each worker finishes the item in hand. Over HTTPS when the
//! settings name a certificate.

use std::{future::Future, net::SocketAddr, sync::Arc, thread::JoinHandle};

use axum::{Router, serve::ListenerExt};
use stockyard_core::{Error, Stop, Store, Sweeper, notifications::dispatch::Dispatcher};
use tokio::{net::TcpListener, sync::watch};

use crate::{Settings, router, tls};

/// The background work a deployment runs beside the API; `None` leaves one out (several
/// instances may all run both: the dispatcher claims each notification once and the sweep
/// closes each due item once). `others` run on threads of their own too, until the stop.
#[derive(Debug, Default)]
pub struct Workers {
    pub dispatcher: Option<Dispatcher>,
    pub sweeper: Option<Sweeper>,
    pub others: Vec<Job>,
}

/// Other work to run beside the API until the stop (an event relay): it returns once
/// stopped.
pub struct Job(pub Box<dyn FnOnce(&Stop) + Send>);

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Workers {
    fn start(self, stop: &Stop) -> Vec<JoinHandle<()>> {
        let mut threads = Vec::new();
        if let Some(dispatcher) = self.dispatcher {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let mut failures = Failures::default();
                let outcome = dispatcher.run(&stop, |round| match failures.passed(round) {
                    Ok(report) if report.created + report.delivered + report.retrying + report.failed > 0 => {
                        tracing::info!(
                            created = report.created,
                            delivered = report.delivered,
                            retrying = report.retrying,
                            failed = report.failed,
                            "notifications dispatched"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => failures.log(e, "dispatcher round failed; trying again"),
                });
                if let Err(e) = outcome {
                    tracing::error!(error = %e.chain(), "the notification dispatcher stopped");
                }
            }));
        }
        if let Some(sweeper) = self.sweeper {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || {
                let mut failures = Failures::default();
                let outcome = sweeper.run(&stop, |round| match failures.passed(round) {
                    Ok(report) if report.records_sealed + report.reservations_expired + report.orders_cancelled > 0 => {
                        tracing::info!(
                            records_sealed = report.records_sealed,
                            reservations_expired = report.reservations_expired,
                            orders_cancelled = report.orders_cancelled,
                            "swept"
                        );
                    }
                    Ok(_) => {}
                    Err(e) => failures.log(e, "sweep failed; trying again"),
                });
                if let Err(e) = outcome {
                    tracing::error!(error = %e.chain(), "the sweeper stopped");
                }
            }));
        }
        for Job(job) in self.others {
            let stop = stop.clone();
            threads.push(std::thread::spawn(move || job(&stop)));
        }
        threads
    }
}

/// A worker's failed rounds, logged at warn when the failure is new and at debug while it
/// repeats: an outage of the database would otherwise log every round of every worker.
#[derive(Debug, Default)]
pub struct Failures {
    last: Option<String>,
}

impl Failures {
    /// `round`, after noting that a success ends a run of failures.
    pub fn passed<'r, T, E>(&mut self, round: &'r Result<T, E>) -> &'r Result<T, E> {
        if round.is_ok() {
            self.last = None;
        }
        round
    }

    pub fn log(&mut self, error: &Error, what: &str) {
        let chain = error.chain();
        if self.last.as_ref() == Some(&chain) {
            tracing::debug!(error = %chain, "{what}");
        } else {
            tracing::warn!(error = %chain, "{what}");
        }
        self.last = Some(chain);
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests
/// finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// [`serve`] over HTTPS: each connection's TLS handshake completes before axum sees it.
pub async fn serve_tls(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The empty tap gives the listener axum's connect info (the peer's address).
    let listener = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Runs the server and its workers until a stop signal (blocking). `ready` hears the
/// address once the server listens.
pub fn run(store: Store, settings: &Settings, workers: Workers, ready: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    // Bad certificate files are refused before anything starts.
    let tls = settings.tls.as_ref().map(tls::server_config).transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal_from("cannot start the async runtime", e))?;
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| Error::internal_from("cannot install the metrics recorder", e))?;
    let listener = runtime
        .block_on(TcpListener::bind(settings.bind))
        .map_err(|e| Error::invalid("bind", format!("cannot listen on {}: {e}", settings.bind)))?;
    let address = listener.local_addr().map_err(|e| Error::internal_from("cannot read the bound address", e))?;
    let stop = Stop::new();
    let threads = workers.start(&stop);
    let (stopping, shutdown) = watch::channel(false);
    let app = router(store, settings, Some(metrics), shutdown);
    ready(address);
    tracing::info!(%address, "serving the API");
    let shutdown = async move {
        signal().await;
        tracing::info!("stopping: finishing requests in flight");
        let _ = stopping.send(true);
    };
    let served = runtime.block_on(async move {
        match tls {
            Some(config) => serve_tls(listener, config, app, shutdown).await,
            None => serve(listener, app, shutdown).await,
        }
    });
    stop.stop();
    for thread in threads {
        let _ = thread.join();
    }
    served.map_err(|e| Error::internal_from("the server failed", e))
}

/// SIGTERM or Ctrl-C (SIGINT).
async fn signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
