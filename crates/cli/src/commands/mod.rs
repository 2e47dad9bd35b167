//! One handler per command area; each opens the store, calls the core, prints the result.

mod category;
mod dispatch;
mod events;
mod integrity;
mod notify;
mod orders;
mod preferences;
mod product;
mod reference;
mod relay;
mod reservation;
mod serve;
mod setup;
mod sheets;
mod stock;
mod tokens;
mod tui;
mod users;
mod warehouse;
mod webhooks;

use std::{
    cell::OnceCell,
    io::{StdoutLock, Write},
};

use stockyard_core::{Actor, Store};

use crate::{cli::Command, config::Config, exit::Failure, output::Output};

/// What every handler needs: the settings, the store (opened once, when first asked for)
/// and the output.
pub struct Context<'c> {
    pub config: &'c Config,
    pub out: Output<StdoutLock<'static>>,
    store: OnceCell<Store>,
}

impl Context<'_> {
    /// The initialised store the settings name.
    pub fn store(&self) -> Result<Store, Failure> {
        if let Some(store) = self.store.get() {
            return Ok(store.clone());
        }
        let store = Store::open_with(&self.config.database, &self.config.store)?;
        Ok(self.store.get_or_init(|| store).clone())
    }

    /// Who the command acts as: the built-in `local-admin`, or the active user `--as`
    /// names (an unknown or disabled one is refused).
    pub fn actor(&self) -> Result<Actor, Failure> {
        match &self.config.acting_user {
            None => Ok(Actor::local_admin()),
            Some(email) => Ok(self.store()?.users().acting(email)?),
        }
    }
}

pub fn run(config: &Config, command: Command) -> Result<(), Failure> {
    let out = Output::new(config.format, config.quiet, std::io::stdout().lock());
    let mut ctx = Context { config, out, store: OnceCell::new() };
    match command {
        Command::Init(init) => setup::init(&mut ctx, init),
        Command::Demo { products } => setup::demo(&mut ctx, products),
        Command::Product(cmd) => product::run(&mut ctx, cmd),
        Command::Category(cmd) => category::run(&mut ctx, cmd),
        Command::Warehouse(cmd) => warehouse::run(&mut ctx, cmd),
        Command::Stock(cmd) => stock::run(&mut ctx, cmd),
        Command::Events(cmd) => events::run(&mut ctx, cmd),
        Command::Verify(args) => integrity::verify(&mut ctx, args),
        Command::Audit(cmd) => integrity::audit(&mut ctx, cmd),
        Command::Key(cmd) => integrity::key(&mut ctx, cmd),
        Command::Reserve(reserve) => reservation::reserve(&mut ctx, reserve),
        Command::Release { id } => reservation::release(&mut ctx, &id),
        Command::Order(cmd) => orders::run(&mut ctx, cmd),
        Command::Sweep => reservation::sweep(&mut ctx),
        Command::User(cmd) => users::run(&mut ctx, cmd),
        Command::Token(cmd) => tokens::run(&mut ctx, cmd),
        Command::Notify(cmd) => notify::run(&mut ctx, cmd),
        Command::Webhook(cmd) => webhooks::run(&mut ctx, cmd),
        Command::Inbox(inbox) => notify::inbox(&mut ctx, inbox),
        Command::Import(args) => sheets::import(&mut ctx, args),
        Command::Export(args) => sheets::export(&mut ctx, args),
        Command::Serve(args) => serve::run(&mut ctx, args),
        Command::Relay(cmd) => relay::run(&mut ctx, cmd),
        Command::Tui => tui::run(&ctx),
        Command::Completions { shell } => {
            // Made whole first: clap_complete panics on a failed write, e.g. `| head`.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut crate::cli::examples::command(), "stockyard", &mut script);
            ctx.out.raw().write_all(&script)?;
            Ok(ctx.out.raw().flush()?)
        }
        Command::Openapi { out } => reference::openapi(&mut ctx, out),
        Command::Man(args) => reference::man(&mut ctx, args),
    }
}
