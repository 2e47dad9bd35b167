//! `stockyard serve`, the real binary: where its settings come from (flag, then environment,
//! then `stockyard.toml`) and what it refuses, CORS, HTTPS, and its workers end to end — an
//! order placed over HTTP reaches the customer by email and a receiver by signed webhook,
//! and the sweep expires a lapsed reservation — or, with `--no-workers`, nothing does.

use crate::common::{
    assert_mentions, command, init, refused,
    served::{Served, client},
    stockyard, store_ago, with_products,
};

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use jiff::{SignedDuration, Timestamp};
use reqwest::blocking::Client;
use serde_json::{Value, json};
use stockyard_core::{
    Actor, Sweeper,
    inventory::ReserveRequest,
    notifications::{dispatch::Dispatcher, transport::Smtp, webhooks::verify},
};
use stockyard_testkit::{TestDb, backend_tests, http::Receiver, smtp::SmtpSink, wait_until};

const ADMIN: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "a webhook secret for the serve tests";

/// A folder to run in, holding `stockyard.toml` with `toml` when given.
fn folder(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    if !toml.is_empty() {
        std::fs::write(dir.path().join("stockyard.toml"), toml).expect("write stockyard.toml");
    }
    dir
}

/// `serve ARGS` expected to fail with `code`: its stderr.
fn serve_refused(db: &TestDb, args: &[&str], env: &[(&str, &str)], dir: &Path, code: i32) -> String {
    let mut cmd = assert_cmd::Command::from_std(command(db));
    cmd.current_dir(dir).envs(env.iter().copied());
    refused(cmd, &[&["serve"], args].concat(), code)
}

/// How many of a quick burst of calls the rate limit refused.
fn limited(served: &Served) -> usize {
    let client = client();
    (0..6).filter(|_| client.get(served.url("/api/v1/products")).send().expect("call").status().as_u16() == 429).count()
}

/// The `access-control-allow-origin` answered to a browser on `origin`.
fn allowed_origin(served: &Served, origin: &str) -> Option<String> {
    let response = client().get(served.url("/healthz")).header("Origin", origin).send().expect("call");
    response.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap_or_default().to_owned())
}

/// An initialised store with MUG-1 in stock and an admin who can log in.
fn shop(db: &TestDb) {
    with_products(db, &["MUG-1"]);
    stockyard(db).args(["stock", "receive", "MUG-1", "10"]).assert().success();
    stockyard(db)
        .args(["user", "add", ADMIN, "--role", "admin", "--password-stdin"])
        .write_stdin(PASSWORD)
        .assert()
        .success();
}

/// A bearer token for the admin.
fn login(served: &Served) -> String {
    let response = client()
        .post(served.url("/api/v1/auth/login"))
        .json(&json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .expect("login");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().expect("json");
    body["access_token"].as_str().expect("a token").to_owned()
}

/// Places an order for jane@example.org over HTTP.
fn order(served: &Served, token: &str) -> Value {
    let body =
        json!({"customer": {"email": "jane@example.org", "name": "Jane"}, "lines": [{"sku": "MUG-1", "quantity": 1}]});
    let response = client().post(served.url("/api/v1/orders")).bearer_auth(token).json(&body).send().expect("order");
    assert_eq!(response.status().as_u16(), 201);
    response.json().expect("json")
}

/// A checkout reservation of one MUG-1 made an hour ago (15-minute TTL): long lapsed.
fn lapsed_reservation(db: &TestDb) -> String {
    let request =
        ReserveRequest { lines: vec![("MUG-1".into(), 1)], warehouse: Some("MAIN".into()), ..Default::default() };
    let store = store_ago(db, SignedDuration::from_hours(1));
    store.inventory().reserve(&Actor::local_admin(), request).expect("reserve an hour ago").id.to_string()
}

fn reservation_status(served: &Served, token: &str, id: &str) -> String {
    let response = client()
        .get(served.url(&format!("/api/v1/inventory/reservations/{id}")))
        .bearer_auth(token)
        .send()
        .expect("get");
    let body: Value = response.json().expect("json");
    body["status"].as_str().unwrap_or_default().to_owned()
}

const ANY_PORT: &str = "127.0.0.1:0";

// The settings tests start several servers on one database at once: without workers, as
// SQLite runs one notification dispatcher at a time.

backend_tests! {
    fn bind_comes_from_the_flag_then_the_environment_then_the_file(db) {
        init(db);
        let dir = folder("bind = \"nonsense\"\n");
        let from_env = Served::start(db, &["--no-workers"], &[("STOCKYARD_BIND", ANY_PORT)], dir.path());
        assert!(from_env.base.starts_with("http://127.0.0.1:"), "{}", from_env.base);
        let from_flag = Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[("STOCKYARD_BIND", "nonsense")], dir.path());
        assert_eq!(client().get(from_flag.url("/healthz")).send().expect("healthz").status().as_u16(), 200);
        let message = serve_refused(db, &["--no-workers"], &[], dir.path(), 6);
        assert_mentions(&message, &["bind", "nonsense"]);
        from_env.stop();
        from_flag.stop();
    }

    fn rate_limit_comes_from_the_flag_then_the_environment_then_the_file(db) {
        init(db);
        let dir = folder("rate_limit = \"fast\"\n");
        let from_env = Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[("STOCKYARD_RATE_LIMIT", "1")], dir.path());
        assert!(limited(&from_env) > 0, "1 request per second refuses a burst");
        let off = Served::start(db, &["--no-workers", "--bind", ANY_PORT, "--rate-limit", "off"], &[("STOCKYARD_RATE_LIMIT", "fast")], dir.path());
        assert_eq!(limited(&off), 0, "off: no limit");
        let from_file = folder("rate_limit = \"off\"\n");
        assert_eq!(limited(&Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[], from_file.path())), 0);
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT], &[], dir.path(), 6);
        assert_mentions(&message, &["rate limit", "fast"]);
    }

    fn pool_size_comes_from_the_flag_then_the_environment_then_the_file(db) {
        init(db);
        let dir = folder("pool_size = 0\n");
        let _from_env = Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[("STOCKYARD_POOL_SIZE", "2")], dir.path());
        let _from_flag = Served::start(db, &["--no-workers", "--bind", ANY_PORT, "--pool-size", "3"], &[("STOCKYARD_POOL_SIZE", "0")], dir.path());
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT], &[], dir.path(), 6);
        assert_mentions(&message, &["pool size", "at least 1"]);
    }

    fn cors_is_off_by_default_and_on_for_allowed_origins_only(db) {
        init(db);
        let plain = folder("");
        let off = Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[], plain.path());
        assert_eq!(allowed_origin(&off, "https://shop.example"), None);
        let dir = folder("cors_origins = [\"ftp://x\"]\n");
        let from_env = Served::start(db, &["--no-workers", "--bind", ANY_PORT], &[("STOCKYARD_CORS_ORIGINS", "https://shop.example")], dir.path());
        assert_eq!(allowed_origin(&from_env, "https://shop.example").as_deref(), Some("https://shop.example"));
        assert_eq!(allowed_origin(&from_env, "https://evil.example"), None);
        let from_flag = Served::start(
            db,
            &["--no-workers", "--bind", ANY_PORT, "--cors-origin", "https://admin.example"],
            &[("STOCKYARD_CORS_ORIGINS", "ftp://x")],
            dir.path(),
        );
        assert_eq!(allowed_origin(&from_flag, "https://admin.example").as_deref(), Some("https://admin.example"));
        assert_eq!(allowed_origin(&from_flag, "https://shop.example"), None);
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT], &[], dir.path(), 6);
        assert_mentions(&message, &["cors origin", "ftp://x"]);
    }

    fn an_uninitialised_database_is_refused(db) {
        let dir = folder("");
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT], &[], dir.path(), 1);
        assert_mentions(&message, &["run `stockyard init` first"]);
    }

    fn tls_serves_https_with_the_given_certificate(db) {
        init(db);
        let dir = folder("");
        let (cert, key, pem) = certificate(dir.path());
        let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
        let served = Served::start(db, &["--no-workers", "--bind", ANY_PORT, "--tls-cert", cert], &[("STOCKYARD_TLS_KEY", key)], dir.path());
        assert!(served.base.starts_with("https://127.0.0.1:"), "{}", served.base);
        client();
        let trusting = Client::builder()
            .no_proxy()
            .tls_certs_only([reqwest::Certificate::from_pem(pem.as_bytes()).expect("the certificate")])
            .build()
            .expect("client");
        let response = trusting.get(served.url("/healthz")).send().expect("https");
        assert_eq!(response.status().as_u16(), 200);
        let plain = served.url("/healthz").replacen("https://", "http://", 1);
        assert!(client().get(plain).send().is_err(), "no plain HTTP on the TLS port");
        served.stop();
    }

    fn tls_settings_are_checked(db) {
        init(db);
        let dir = folder("");
        let (cert, key, _) = certificate(dir.path());
        let (cert, key) = (cert.to_str().expect("path"), key.to_str().expect("path"));
        let alone = serve_refused(db, &["--no-workers", "--bind", ANY_PORT, "--tls-cert", cert], &[], dir.path(), 6);
        assert_mentions(&alone, &["STOCKYARD_TLS_KEY", "name both"]);
        let alone = serve_refused(db, &["--no-workers", "--bind", ANY_PORT], &[("STOCKYARD_TLS_KEY", key)], dir.path(), 6);
        assert_mentions(&alone, &["STOCKYARD_TLS_CERT", "name both"]);
        let missing = dir.path().join("missing.pem");
        let missing = missing.to_str().expect("path");
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT, "--tls-cert", missing, "--tls-key", key], &[], dir.path(), 6);
        assert_mentions(&message, &["TLS certificate", "missing.pem"]);
        let garbage = dir.path().join("garbage.pem");
        std::fs::write(&garbage, "not a key at all").expect("write");
        let garbage = garbage.to_str().expect("path");
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT, "--tls-cert", cert, "--tls-key", garbage], &[], dir.path(), 6);
        assert_mentions(&message, &["TLS key", "garbage.pem"]);
        // The certificate given as its own key.
        let message = serve_refused(db, &["--no-workers", "--bind", ANY_PORT, "--tls-cert", cert, "--tls-key", cert], &[], dir.path(), 6);
        assert_mentions(&message, &["TLS key", "cert.pem"]);
    }

    fn the_workers_email_the_customer_sign_a_webhook_and_sweep(db) {
        shop(db);
        let receiver = Receiver::start();
        db.store().notifications().add_webhook(&Actor::local_admin(), &receiver.url(), &["OrderCreated".into()], Some(SECRET)).expect("webhook");
        let reservation = lapsed_reservation(db);
        let smtp = SmtpSink::start();
        let dir = folder("");
        let env = [("STOCKYARD_SMTP_URL", smtp.url()), ("STOCKYARD_MAIL_FROM", "shop@example.com".to_owned())];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let served = Served::start(db, &["--bind", ANY_PORT, "--rate-limit", "off", "--sweep-every", "1s"], &env, dir.path());
        let token = login(&served);
        let placed = order(&served, &token);
        wait_until("the customer's email arrives", || smtp.received().iter().any(|m| m.to.iter().any(|t| t == "jane@example.org")));
        wait_until("the webhook arrives", || !receiver.requests().is_empty());
        let request = &receiver.requests()[0];
        assert_eq!(request.header("x-stockyard-event"), Some("OrderCreated"));
        let signature = request.header("x-stockyard-signature").expect("signed");
        assert_eq!(verify(SECRET, signature, request.body.as_bytes(), Timestamp::now(), Duration::from_secs(300)), Ok(()));
        let event: Value = serde_json::from_str(&request.body).expect("json");
        assert_eq!(event["payload"]["order_id"], placed["id"], "{event}");
        wait_until("the sweep expires the lapsed reservation", || reservation_status(&served, &token, &reservation) == "expired");
        served.stop();
    }

    fn no_workers_serves_the_api_alone(db) {
        shop(db);
        let reservation = lapsed_reservation(db);
        let smtp = SmtpSink::start();
        let dir = folder("");
        let env = [("STOCKYARD_SMTP_URL", smtp.url()), ("STOCKYARD_MAIL_FROM", "shop@example.com".to_owned())];
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let served =
            Served::start(db, &["--bind", ANY_PORT, "--no-workers", "--sweep-every", "1s", "--dispatch-every", "1s"], &env, dir.path());
        let token = login(&served);
        order(&served, &token);
        assert_eq!(reservation_status(&served, &token, &reservation), "active");
        // What the workers would have done is all still to do: the order's notifications
        // are first made by this dispatcher (on SQLite it could not even start beside
        // another), and this sweep is the one that expires the reservation.
        let store = db.store();
        let email = Box::new(Smtp::new(&smtp.url(), "shop@example.com").expect("smtp"));
        let report = Dispatcher::new(&store, &Actor::local_admin(), Some(email)).expect("the only dispatcher").run_once().expect("dispatch");
        assert!(report.created >= 1 && report.delivered >= 1, "{report:?}");
        let swept = Sweeper::new(&store, &Actor::local_admin()).expect("sweeper").run_once().expect("sweep");
        assert_eq!(swept.reservations_expired, 1);
        assert_eq!(reservation_status(&served, &token, &reservation), "expired");
    }
}

/// A self-signed certificate for 127.0.0.1 and localhost, written to `dir`: the paths of
/// its certificate and key, and the certificate's PEM.
fn certificate(dir: &Path) -> (PathBuf, PathBuf, String) {
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("a certificate");
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).expect("write the certificate");
    std::fs::write(&key_path, signing_key.serialize_pem()).expect("write the key");
    (cert_path, key_path, cert.pem())
}
