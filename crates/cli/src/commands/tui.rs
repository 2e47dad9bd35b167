//! `tui`: the warehouse-floor dashboard on this terminal, acting as the `--as` user.

use std::io::IsTerminal;

use stockyard_core::Error;

use super::Context;
use crate::exit::Failure;

pub fn run(ctx: &Context<'_>) -> Result<(), Failure> {
    let (store, actor) = (ctx.store()?, ctx.actor()?);
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(
            Error::invalid("terminal", "`stockyard tui` draws on a terminal: run it in one, not in a pipe").into()
        );
    }
    Ok(stockyard_tui::run(store, actor)?)
}
