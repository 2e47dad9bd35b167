//! `relay nats`: the event log forwarded to a broker until the process is stopped, a line
//! per batch (JSON with `--format json`).

use std::io::Write;

use stockyard_core::Stop;
use stockyard_relay::{NatsRelay, NatsTarget};

use super::Context;
use crate::{
    cli::{LogFormat, RelayCommand},
    exit::Failure,
};

pub fn run(ctx: &mut Context<'_>, cmd: RelayCommand) -> Result<(), Failure> {
    let RelayCommand::Nats(args) = cmd;
    // On stderr, as `serve` logs: that it waits for another relay's lease, NATS reconnecting.
    super::serve::logging(LogFormat::Text);
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    let target = NatsTarget { url: args.url, stream: args.stream, subject_prefix: args.subject_prefix };
    // Output that can no longer be written (its reader went away) ends the run.
    let (stop, mut unwritten) = (Stop::new(), None);
    let relay = NatsRelay::start(&store, &actor, target, &stop)?;
    relay.run(&stop, |batch| match batch {
        Ok(report) => {
            let line = format!(
                "{}  published {} ({} repeats) through seq {}",
                store.now(),
                report.published,
                report.repeats,
                report.through
            );
            if let Err(e) = ctx.out.progress(&line, report) {
                unwritten = Some(e);
                stop.stop();
            }
        }
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "error: {e}; trying again");
        }
    })?;
    match unwritten {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}
