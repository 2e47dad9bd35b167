//! One handler per command area; each opens the store, calls the core, prints the result.

mod category;
mod events;
mod product;
mod reservation;
mod setup;
mod stock;
mod warehouse;

use std::io::{StdoutLock, Write};

use stockyard_core::{Actor, Store};

use crate::{cli::Command, config::Config, exit::Failure, output::Output};

/// What every handler needs: the settings, the acting user and the output.
pub struct Context<'c> {
    pub config: &'c Config,
    pub out: Output<StdoutLock<'static>>,
}

impl Context<'_> {
    /// The initialised store the settings name.
    pub fn store(&self) -> Result<Store, Failure> {
        Ok(Store::open_with(&self.config.database, &self.config.store)?)
    }

    pub fn actor(&self) -> Result<Actor, Failure> {
        self.config.actor()
    }
}

pub fn run(config: &Config, command: Command) -> Result<(), Failure> {
    let out = Output::new(config.format, config.quiet, std::io::stdout().lock());
    let mut ctx = Context { config, out };
    match command {
        Command::Init => setup::init(&mut ctx),
        Command::Demo { products } => setup::demo(&mut ctx, products),
        Command::Product(cmd) => product::run(&mut ctx, cmd),
        Command::Category(cmd) => category::run(&mut ctx, cmd),
        Command::Warehouse(cmd) => warehouse::run(&mut ctx, cmd),
        Command::Stock(cmd) => stock::run(&mut ctx, cmd),
        Command::Events(cmd) => events::run(&mut ctx, cmd),
        Command::Verify => events::verify(&mut ctx),
        Command::Reserve(reserve) => reservation::reserve(&mut ctx, reserve),
        Command::Release { id } => reservation::release(&mut ctx, &id),
        Command::Sweep => reservation::sweep(&mut ctx),
        Command::Completions { shell } => {
            let mut cli = <crate::cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cli, "stockyard", ctx.out.raw());
            Ok(ctx.out.raw().flush()?)
        }
    }
}
