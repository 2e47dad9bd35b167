//! `stockyard serve` stops gracefully on SIGTERM: it takes no new connection, the order in
//! flight when the signal came is still placed and answered 201, and the process exits 0.
//! The order is held in flight by a database write lock the test holds.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Command, Stdio},
    thread,
};

use stockyard_core::{Actor, NewProduct, Role, auth::NewApiToken};
use stockyard_testkit::{WriteLock, backend_tests, wait_until};

use crate::common::command;

/// The server process, killed if the test ends before it exits.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// One HTTP/1.1 exchange on a fresh connection: the status and the body.
fn http(address: &str, method: &str, path: &str, token: &str, body: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

backend_tests! {
    fn sigterm_lets_the_order_in_flight_finish_then_exits_0(db) {
        let store = db.store();
        let admin = Actor::local_admin();
        let product = NewProduct { sku: "STOP-1".into(), name: "Stop".into(), price: "2.00".into(), ..Default::default() };
        store.catalog().create_product(&admin, product).expect("product");
        store.inventory().receive(&admin, "STOP-1", None, 5, None).expect("stock");
        let input = NewApiToken { name: "shutdown".into(), role: Role::Sales, warehouses: Vec::new(), expires_in: None };
        let token = store.auth().create_token(&admin, input).expect("token").secret;

        // One request at a time: a probe answered 503 means the order holds the one slot.
        let mut serve = command(db);
        serve.args(["serve", "--bind", "127.0.0.1:0", "--no-workers", "--max-in-flight", "1", "--rate-limit", "off"]);
        // The log goes to a file: a pipe nobody reads until the end could fill and stall it.
        let log_file = tempfile::NamedTempFile::new().expect("a log file");
        let log_to = log_file.reopen().expect("the log file");
        let mut child = Server(serve.stdout(Stdio::piped()).stderr(log_to).spawn().expect("start stockyard serve"));
        let mut first = String::new();
        BufReader::new(child.0.stdout.take().expect("stdout")).read_line(&mut first).expect("the address line");
        let address = first.trim().strip_prefix("listening on http://").expect("listening on …").to_owned();

        let lock = WriteLock::hold(db);
        let order = {
            let (address, token) = (address.clone(), token.clone());
            thread::spawn(move || loop {
                let body = r#"{"customer": {"email": "shopper@example.org"}, "lines": [{"sku": "STOP-1", "quantity": 2}]}"#;
                let answer = http(&address, "POST", "/api/v1/orders", &token, body).expect("the order is answered");
                if answer.0 != 503 {
                    return answer;
                }
            })
        };
        wait_until("the order is in flight", || {
            http(&address, "GET", "/healthz", &token, "").is_ok_and(|(status, _)| status == 503)
        });
        let killed = Command::new("kill").args(["-TERM", &child.0.id().to_string()]).status().expect("kill");
        assert!(killed.success());
        wait_until("new connections are refused", || TcpStream::connect(&address).is_err());

        lock.release();
        let (status, body) = order.join().expect("the order thread");
        assert_eq!(status, 201, "{body}");
        assert!(body.contains("\"status\":\"confirmed\""), "{body}");
        let exit = child.0.wait().expect("the server exits");
        let log = std::fs::read_to_string(log_file.path()).expect("the server's log");
        assert_eq!(exit.code(), Some(0), "{exit:?}: {log}");
    }
}
