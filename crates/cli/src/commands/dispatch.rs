//! `notify run [--once]`: the notification dispatcher, for one round or until the process
//! is stopped (the dispatcher is crash-safe, so stopping it at any point loses nothing).
//! A second dispatcher on SQLite is refused (exit 4) whether it would run once or loop.

use std::io::Write;

use stockyard_core::{
    Actor, Error, Stop, Store,
    notifications::{
        dispatch::{DispatchReport, Dispatcher},
        transport::{Smtp, Transport},
    },
};

use super::Context;
use crate::{config::Mail, exit::Failure};

pub fn run(ctx: &mut Context<'_>, store: &Store, actor: &Actor, once: bool) -> Result<(), Failure> {
    let dispatcher = Dispatcher::new(store, actor, transport(&ctx.config.mail)?)?;
    if once {
        let report = dispatcher.run_once()?;
        notice(&report.waiting);
        return Ok(ctx.out.done(&summary(&report), &report)?);
    }
    // Output that can no longer be written (its reader went away) ends the run.
    let (stop, mut unwritten) = (Stop::new(), None);
    let mut noticed = false;
    dispatcher.run(&stop, |round| match round {
        Ok(report) => {
            if !noticed {
                notice(&report.waiting);
                noticed = true;
            }
            if report.created + report.delivered + report.retrying + report.failed > 0
                && let Err(e) = ctx.out.progress(&format!("{}  {}", store.now(), summary(report)), report)
            {
                unwritten = Some(e);
                stop.stop();
            }
        }
        Err(e) => {
            let every = Dispatcher::EVERY.as_secs();
            let _ = writeln!(std::io::stderr(), "error: {e}; trying again in {every}s");
        }
    })?;
    match unwritten {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The email transport the settings name: none when neither is set (email is off); one of
/// the two without the other is a mistake worth stopping for.
pub(super) fn transport(mail: &Mail) -> Result<Option<Box<dyn Transport>>, Failure> {
    let half = |missing: &str, set: &str| {
        let reason = format!("not set, while {set} is: set both, or neither to leave email off");
        Err(Error::invalid(missing, reason).into())
    };
    match (&mail.smtp_url, &mail.from) {
        (Some(url), Some(from)) => Ok(Some(Box::new(Smtp::new(url, from)?))),
        (None, None) => Ok(None),
        (Some(_), None) => half("STOCKYARD_MAIL_FROM (mail_from)", "the SMTP URL"),
        (None, Some(_)) => half("STOCKYARD_SMTP_URL (smtp_url)", "the sender"),
    }
}

/// Why a channel is off, on stderr.
fn notice(waiting: &[String]) {
    for line in waiting {
        let _ = writeln!(std::io::stderr(), "notice: {line}");
    }
}

fn summary(report: &DispatchReport) -> String {
    format!(
        "read {} events, made {} notifications; {} delivered, {} to retry, {} failed",
        report.events_read, report.created, report.delivered, report.retrying, report.failed
    )
}
