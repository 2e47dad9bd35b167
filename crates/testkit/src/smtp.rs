//! A real SMTP server for tests, in-process: it speaks enough SMTP for a client to deliver
//! (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) on 127.0.0.1, keeps every message it
//! accepted, and can refuse the first few with a temporary failure.

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
};

/// One message the server accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message: headers, a blank line, the body.
    pub data: String,
}

impl Received {
    /// A header's value (first match, case-insensitive name).
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{}:", name.to_ascii_lowercase());
        self.data
            .lines()
            .take_while(|l| !l.is_empty())
            .find(|l| l.to_ascii_lowercase().starts_with(&prefix))
            .map(|l| l[prefix.len()..].trim().to_owned())
    }
}

#[derive(Debug, Default)]
struct State {
    received: Vec<Received>,
    /// Messages still to refuse with `451`.
    refuse: usize,
}

/// A running SMTP sink; it stops with the test process.
#[derive(Debug, Clone)]
pub struct SmtpSink {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl SmtpSink {
    /// Starts a sink on a free port.
    pub fn start() -> Self {
        let (port, state) = crate::server::start(serve);
        Self { port, state }
    }

    /// The URL to give a client: `smtp://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Refuses the next `n` messages with a temporary failure (`451`).
    pub fn refuse_next(&self, n: usize) {
        self.lock().refuse = n;
    }

    /// Every message accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::server::lock(&self.state)
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut lines = BufReader::new(stream);
    let mut reply = |text: &str| -> std::io::Result<()> { out.write_all(format!("{text}\r\n").as_bytes()) };
    reply("220 stockyard-test-sink ESMTP")?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => reply("250-stockyard-test-sink\r\n250 8BITMIME")?,
            "HELO" | "NOOP" => reply("250 OK")?,
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                reply("250 OK")?;
            }
            "MAIL" => {
                let mut state = crate::server::lock(state);
                if state.refuse > 0 {
                    state.refuse -= 1;
                    reply("451 try again later")?;
                } else {
                    from = address(&command);
                    reply("250 OK")?;
                }
            }
            "RCPT" => {
                to.push(address(&command));
                reply("250 OK")?;
            }
            "DATA" => {
                reply("354 end with <CRLF>.<CRLF>")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line.trim_end_matches(['\r', '\n']) == "." {
                        break;
                    }
                    let text = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(&text.replace("\r\n", "\n"));
                }
                let message = Received { from: std::mem::take(&mut from), to: std::mem::take(&mut to), data };
                crate::server::lock(state).received.push(message);
                reply("250 accepted")?;
            }
            "QUIT" => {
                reply("221 bye")?;
                return Ok(());
            }
            _ => reply("502 not implemented")?,
        }
    }
}

/// The address in `MAIL FROM:<a@b>` / `RCPT TO:<a@b>`.
fn address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command.rfind('>').unwrap_or(command.len());
    command.get(start..end).unwrap_or_default().to_owned()
}
