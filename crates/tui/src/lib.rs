//! `stockyard tui`: the warehouse-floor dashboard — stock, scanning, pick and pack, alerts —
//! over the same store and permissions as every other command, acting as one user.
//!
//! The state ([`app`]) changes only through messages; keys map to actions ([`keys`]);
//! drawing ([`ui`]) is a pure function of the state; every core call runs on the
//! [`worker`] thread, so a slow database never freezes the screen. Nothing here decides a
//! domain rule: each change is one core call, recorded in the audit log as the user.

pub mod app;
pub mod form;
pub mod keys;
pub mod screens;
pub mod theme;
pub mod ui;
pub mod worker;

use std::{
    io,
    sync::{Arc, mpsc},
    thread,
    time::Duration,
};

use jiff::Timestamp;
use ratatui::{
    DefaultTerminal,
    crossterm::event::{self, Event},
};
use stockyard_core::{Actor, Stop, Store};

use crate::{
    app::{App, Msg},
    theme::Theme,
};

/// How often an offline dashboard tries the database again.
pub const RETRY: Duration = Duration::from_secs(2);

/// Runs the dashboard on this terminal until the user quits. The terminal is restored on
/// the way out, whether by quitting, by an error or by a panic.
pub fn run(store: Store, actor: Actor) -> io::Result<()> {
    let store = Arc::new(store);
    let (app, first) = App::new(actor.clone(), store.location(), Theme::from_env());
    let (send, messages) = mpsc::channel();
    let worker =
        worker::spawn(store.clone(), actor, send.clone(), |command, outcome| Msg::Reply(Box::new((command, outcome))));
    let stop = Stop::new();
    worker::follow(store, 0, stop.clone(), send.clone(), Msg::Seq);
    let mut terminal = Terminal::enter()?;
    thread::spawn(move || read_input(&send));
    for command in first {
        let _ = worker.send(command);
    }
    let result = event_loop(&mut terminal.0, app, &messages, &worker);
    stop.stop();
    result
}

/// The terminal in raw mode on the alternate screen, restored when dropped. ratatui's
/// panic hook restores it on a panic.
struct Terminal(DefaultTerminal);

impl Terminal {
    fn enter() -> io::Result<Self> {
        ratatui::try_init().map(Terminal)
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

fn read_input(send: &mpsc::Sender<Msg>) {
    loop {
        let msg = match event::read() {
            Ok(Event::Key(key)) => Msg::Key(key),
            Ok(Event::Resize(..)) => Msg::Resize,
            Ok(_) => continue,
            Err(_) => return,
        };
        if send.send(msg).is_err() {
            return;
        }
    }
}

/// Draws, then sleeps until a key, a reply or the next minute (or retry) — never polls.
fn event_loop(
    terminal: &mut DefaultTerminal,
    mut app: App,
    messages: &mpsc::Receiver<Msg>,
    worker: &mpsc::Sender<worker::Command>,
) -> io::Result<()> {
    while !app.quit {
        terminal.draw(|frame| ui::draw(frame, &app))?;
        let wait = if app.offline.is_some() { RETRY } else { until_next_minute() };
        let first = match messages.recv_timeout(wait) {
            Ok(msg) => msg,
            Err(mpsc::RecvTimeoutError::Timeout) => Msg::Tick(Timestamp::now()),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Ok(()),
        };
        // Everything already waiting is handled before the next frame.
        for msg in std::iter::once(first).chain(messages.try_iter()) {
            for command in app.update(msg) {
                if worker.send(command).is_err() {
                    return Err(io::Error::other("the worker thread stopped"));
                }
            }
        }
    }
    Ok(())
}

fn until_next_minute() -> Duration {
    let now = Timestamp::now();
    let into = now.as_millisecond().rem_euclid(60_000) as u64;
    Duration::from_millis(60_000 - into)
}
