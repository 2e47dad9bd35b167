//! A real HTTP receiver for webhook tests, in-process on 127.0.0.1: it records every
//! request (headers and body) and answers each with the next status of its script, then
//! `200` once the script runs out — or always `503`, like a dead service, when told; and
//! after a pause, like a slow one, when told.

use std::{
    collections::VecDeque,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    sync::{Arc, Mutex},
};

/// One request received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<Request>,
    script: VecDeque<u16>,
    dead: bool,
    pause: std::time::Duration,
}

/// A running receiver; it stops with the test process.
#[derive(Debug, Clone)]
pub struct Receiver {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl Receiver {
    pub fn start() -> Self {
        let (port, state) = crate::server::start(serve);
        Self { port, state }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Answers the next requests with these statuses, in order.
    pub fn answer(&self, statuses: &[u16]) {
        self.lock().script.extend(statuses);
    }

    /// Takes `pause` over each answer from now on: a sender killed meanwhile never hears it.
    pub fn slow(&self, pause: std::time::Duration) {
        self.lock().pause = pause;
    }

    /// Answers every request with `503` from now on.
    pub fn die(&self) {
        self.lock().dead = true;
    }

    pub fn requests(&self) -> Vec<Request> {
        self.lock().requests.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        crate::server::lock(&self.state)
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, path) = (parts.next().unwrap_or_default().to_owned(), parts.next().unwrap_or_default().to_owned());
        let mut headers = Vec::new();
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, pause) = {
            let mut state = crate::server::lock(state);
            let status = if state.dead { 503 } else { state.script.pop_front().unwrap_or(200) };
            let body = String::from_utf8_lossy(&body).into_owned();
            state.requests.push(Request { method, path, headers, body, status });
            (status, state.pause)
        };
        std::thread::sleep(pause);
        out.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\n\r\n").as_bytes())?;
    }
}
