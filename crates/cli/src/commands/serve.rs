//! `serve`: the HTTP API with the notification dispatcher and the sweep beside it, until
//! SIGTERM or Ctrl-C.

use std::{io::Write, num::NonZeroU32, path::PathBuf, time::Duration};

use stockyard_core::{Actor, Error, Stop, Store, Sweeper, notifications::dispatch::Dispatcher, workers::passes};
use stockyard_relay::{NatsRelay, NatsTarget};
use stockyard_server::{DEFAULT_RATE_LIMIT, Failures, Job, Settings, TlsFiles, Workers};

use super::{Context, dispatch};
use crate::{
    cli::{LogFormat, Serve},
    duration,
    exit::Failure,
};

pub fn run(ctx: &mut Context<'_>, args: Serve) -> Result<(), Failure> {
    let file = &ctx.config.serve;
    logging(args.log_format.or(file.log_format).unwrap_or(LogFormat::Text));
    let mut settings = Settings::default();
    if let Some(bind) = args.bind.or_else(|| file.bind.clone()) {
        settings.bind =
            bind.trim().parse().map_err(|e| Error::invalid("bind (STOCKYARD_BIND)", format!("{bind:?}: {e}")))?;
    }
    let rate_limit = args
        .rate_limit
        .or_else(|| file.rate_limit.as_ref().map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned)));
    if let Some(limit) = rate_limit {
        settings.rate_limit = rate(&limit)?;
    }
    if let Some(size) = args.pool_size.or(file.pool_size) {
        settings.pool_size = positive("pool size (STOCKYARD_POOL_SIZE)", size)?;
    }
    if let Some(most) = args.max_in_flight.or(file.max_in_flight) {
        settings.max_in_flight = positive("max in flight (STOCKYARD_MAX_IN_FLIGHT)", most)?;
    }
    let origins = if args.cors_origins.is_empty() { file.cors_origins.clone() } else { args.cors_origins };
    settings.cors_origins = origins.iter().map(|o| origin(o)).collect::<Result<_, _>>()?;
    settings.tls = tls(args.tls_cert.or_else(|| file.tls_cert.clone()), args.tls_key.or_else(|| file.tls_key.clone()))?;
    let sweep_every =
        interval("sweep interval (STOCKYARD_SWEEP_EVERY)", args.sweep_every.or(file.sweep_every.clone()))?;
    let dispatch_every =
        interval("dispatch interval (STOCKYARD_DISPATCH_EVERY)", args.dispatch_every.or(file.dispatch_every.clone()))?;

    let mut options = ctx.config.store.clone();
    options.pool_size = settings.pool_size;
    let store = Store::open_with(&ctx.config.database, &options)?;
    if !store.is_initialised()? {
        return Err(Error::NotInitialised { location: store.location() }.into());
    }
    let workers = if args.no_workers {
        Workers::default()
    } else {
        let mut dispatcher =
            Dispatcher::new(&store, &Actor::system("dispatcher"), dispatch::transport(&ctx.config.mail)?)?;
        let mut sweeper = Sweeper::new(&store, &Actor::system("sweeper"))?;
        if let Some(every) = dispatch_every {
            dispatcher = dispatcher.every(every);
        }
        if let Some(every) = sweep_every {
            sweeper = sweeper.every(every);
        }
        Workers { dispatcher: Some(dispatcher), sweeper: Some(sweeper), others: Vec::new() }
    };
    let mut workers = workers;
    if let Some(url) = args.relay.or(file.relay.clone()) {
        workers.others.push(relay(&store, NatsTarget::parse(&url)?));
    }
    let scheme = if settings.tls.is_some() { "https" } else { "http" };
    stockyard_server::run(store, &settings, workers, |address| {
        // Scripts and tests read the address (and the port `--bind …:0` chose) from here.
        let mut out = std::io::stdout();
        let _ = writeln!(out, "listening on {scheme}://{address}");
        let _ = out.flush();
    })?;
    Ok(())
}

/// The relay as a worker of the server: it connects (again and again while NATS cannot be
/// reached), waits for its lease, then relays until the stop, logging each failure once.
fn relay(store: &Store, target: NatsTarget) -> Job {
    let store = store.clone();
    Job(Box::new(move |stop: &Stop| {
        let mut failures = Failures::default();
        while !stop.is_stopped() {
            let outcome = NatsRelay::start(&store, &Actor::system("relay"), target.clone(), stop).and_then(|relay| {
                relay.run(stop, |batch| {
                    if let Err(e) = failures.passed(batch) {
                        failures.log(e, "relay batch failed; trying again");
                    }
                })
            });
            match outcome {
                Ok(_) => return,
                Err(e) if passes(&e) => {
                    failures.log(&e, "the event relay cannot start; trying again");
                    stop.wait(Duration::from_secs(1));
                }
                Err(e) => {
                    tracing::error!(error = %e.chain(), "the event relay stopped");
                    return;
                }
            }
        }
    }))
}

pub(super) fn logging(format: LogFormat) {
    use std::io::IsTerminal;
    // The migration runner's "applying 0 migrations" on every start is noise.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,refinery_core=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// `N` requests per second, or `off`.
fn rate(text: &str) -> Result<Option<NonZeroU32>, Failure> {
    if text.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let reason = format!("{text:?} is not a number of requests per second (like {DEFAULT_RATE_LIMIT}) or `off`");
    text.trim()
        .parse::<NonZeroU32>()
        .map(Some)
        .map_err(|_| Error::invalid("rate limit (STOCKYARD_RATE_LIMIT)", reason).into())
}

fn positive<T: PartialEq + Default + std::fmt::Display>(field: &str, value: T) -> Result<T, Failure> {
    if value == T::default() {
        return Err(Error::invalid(field, "must be at least 1").into());
    }
    Ok(value)
}

fn interval(field: &str, text: Option<String>) -> Result<Option<Duration>, Failure> {
    let Some(text) = text else { return Ok(None) };
    let every = duration::duration(text.trim()).map_err(|e| Error::invalid(field, e))?;
    if every.is_zero() {
        return Err(Error::invalid(field, "must be longer than 0s").into());
    }
    Ok(Some(every.unsigned_abs()))
}

/// An origin a browser sends: `scheme://host[:port]`, nothing after.
fn origin(text: &str) -> Result<String, Failure> {
    let text = text.trim().trim_end_matches('/');
    let rest = text.strip_prefix("https://").or_else(|| text.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains('/') && text.is_ascii() => Ok(text.to_owned()),
        _ => {
            let reason = format!("{text:?} is not an origin like https://shop.example");
            Err(Error::invalid("cors origin (STOCKYARD_CORS_ORIGINS)", reason).into())
        }
    }
}

/// HTTPS needs both a certificate and its key; one alone is a mistake.
fn tls(cert: Option<PathBuf>, key: Option<PathBuf>) -> Result<Option<TlsFiles>, Failure> {
    match (cert, key) {
        (Some(cert), Some(key)) => Ok(Some(TlsFiles { cert, key })),
        (None, None) => Ok(None),
        (Some(_), None) => {
            Err(Error::invalid("TLS key (STOCKYARD_TLS_KEY)", "a certificate is given without its key: name both")
                .into())
        }
        (None, Some(_)) => Err(Error::invalid(
            "TLS certificate (STOCKYARD_TLS_CERT)",
            "a key is given without its certificate: name both",
        )
        .into()),
    }
}
