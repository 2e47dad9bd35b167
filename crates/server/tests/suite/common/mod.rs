//! The harness every server test shares: a running server over a test database, and a
//! small blocking HTTP client that answers status, headers and JSON.

use std::{sync::mpsc, thread::JoinHandle, time::Duration};

use reqwest::{
    Method,
    blocking::{Client, RequestBuilder},
    header::HeaderMap,
};
use serde_json::Value;
use stockyard_core::{Actor, NewProduct, NewUser, NewWarehouse, Role, StockLevel, StockQuery, Store};
use stockyard_server::{Settings, router, serve};
use stockyard_testkit::TestDb;
use tokio::sync::watch;

/// The password every test user gets.
pub const PASSWORD: &str = "correct horse battery staple";

/// A server on `127.0.0.1:0`, stopped (gracefully) when dropped.
pub struct TestServer {
    pub base: String,
    pub store: Store,
    stop: Option<watch::Sender<bool>>,
    thread: Option<JoinHandle<()>>,
}

/// Settings for tests: no rate limit (tests send bursts from one address) unless a test
/// sets one.
pub fn settings() -> Settings {
    Settings { rate_limit: None, ..Settings::default() }
}

impl TestServer {
    /// A server over the initialised store of `db`.
    pub fn start(db: &TestDb) -> Self {
        // As many calls into the core at once as the test store has connections.
        Self::start_with(db.store(), Settings { pool_size: db.options().pool_size, ..settings() })
    }

    pub fn start_with(store: Store, settings: Settings) -> Self {
        Self::start_measured(store, settings, None)
    }

    /// [`TestServer::start_with`], its `/metrics` rendering `metrics` (a recorder the test
    /// installed).
    pub fn start_measured(
        store: Store,
        settings: Settings,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let (bound, address) = mpsc::channel();
        let served = store.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the test server");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a local port");
                bound.send(listener.local_addr().expect("the bound address")).expect("the test waits");
                let app = router(served, &settings, metrics, stopped.clone());
                let mut until = stopped;
                serve(listener, app, async move {
                    let _ = until.wait_for(|stop| *stop).await;
                })
                .await
                .expect("the test server runs");
            });
        });
        let address = address.recv().expect("the server binds");
        Self { base: format!("http://{address}"), store, stop: Some(stop), thread: Some(thread) }
    }

    /// A client of this server with no credential.
    pub fn anonymous(&self) -> Api {
        Api { client: client(), base: self.base.clone(), token: None }
    }

    /// A client with this bearer token.
    pub fn with_token(&self, token: &str) -> Api {
        Api { token: Some(token.to_owned()), ..self.anonymous() }
    }

    /// A client logged in as a new user of `role` (email `<role>@example.com` unless it
    /// exists), scoped to `warehouses` (none: all).
    pub fn as_role(&self, role: Role, warehouses: &[&str]) -> Api {
        let email = format!("{}-{}@example.com", role.as_str(), uuid_suffix());
        self.as_new_user(&email, role, warehouses)
    }

    pub fn as_new_user(&self, email: &str, role: Role, warehouses: &[&str]) -> Api {
        let user = NewUser {
            email: email.to_owned(),
            role,
            warehouses: warehouses.iter().map(|w| (*w).to_owned()).collect(),
            password: Some(PASSWORD.to_owned()),
            ..NewUser::default()
        };
        self.store.users().create(&Actor::local_admin(), user).expect("create the test user");
        self.login(email)
    }

    /// Logs in over HTTP as an existing user with [`PASSWORD`].
    pub fn login(&self, email: &str) -> Api {
        let reply = self.anonymous().post("/auth/login", &serde_json::json!({ "email": email, "password": PASSWORD }));
        assert_eq!(reply.status, 200, "login as {email}: {}", reply.body);
        let token = reply.body["access_token"].as_str().expect("an access token").to_owned();
        self.with_token(&token)
    }

    pub fn admin(&self) -> Api {
        self.as_role(Role::Admin, &[])
    }

    /// Warehouses besides `MAIN`, made through the library.
    pub fn warehouses(&self, codes: &[&str]) {
        for code in codes {
            let warehouse = NewWarehouse { code: (*code).to_owned(), name: format!("{code} warehouse") };
            self.store.warehouses().create(&Actor::local_admin(), warehouse).expect("create a warehouse");
        }
    }

    /// A product of `price` with `stock` on hand per warehouse, made through the library.
    pub fn product(&self, sku: &str, price: &str, stock: &[(&str, i64)]) {
        let product = NewProduct {
            sku: sku.to_owned(),
            name: format!("Product {sku}"),
            price: price.to_owned(),
            ..Default::default()
        };
        self.store.catalog().create_product(&Actor::local_admin(), product).expect("create a product");
        for (warehouse, quantity) in stock {
            self.store
                .inventory()
                .receive(&Actor::local_admin(), sku, Some(warehouse), *quantity, None)
                .expect("receive stock");
        }
    }

    /// The stock level of `sku` at `warehouse`, read through the library.
    pub fn level(&self, sku: &str, warehouse: &str) -> StockLevel {
        let query =
            StockQuery { sku: Some(sku.to_owned()), warehouse: Some(warehouse.to_owned()), ..Default::default() };
        let page = self.store.inventory().levels(&Actor::local_admin(), &query).expect("read stock");
        page.items.into_iter().next().unwrap_or_else(|| panic!("no stock level of {sku} at {warehouse}"))
    }

    /// Stops the server: in-flight requests finish first.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn client() -> Client {
    // reqwest is built without a default TLS provider; the core uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client")
}

/// A short unique suffix, so tests may make several users of one role.
pub fn uuid_suffix() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    id[id.len() - 8..].to_owned()
}

/// A client of the API under `/api/v1` (paths outside it, like `/healthz`, via [`Api::raw`]).
#[derive(Clone)]
pub struct Api {
    client: Client,
    base: String,
    token: Option<String>,
}

/// An answer: status, headers, and the body as JSON (`Value::Null` when empty, a string
/// when not JSON).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, showing the body when it differs; returns the body.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        self.body
    }

    /// Asserts a problem+json answer of `status` whose `errors[].field` names `field`, and
    /// returns it.
    #[track_caller]
    pub fn invalid(self, status: u16, field: &str) -> Value {
        let problem = self.problem(status);
        let fields: Vec<&str> =
            problem["errors"].as_array().into_iter().flatten().filter_map(|e| e["field"].as_str()).collect();
        assert!(fields.contains(&field), "the problem names {fields:?}, not {field}: {problem}");
        problem
    }

    /// Asserts invalid input refused — 400 when unreadable, 422 when the value is refused —
    /// naming `field`; returns the problem.
    #[track_caller]
    pub fn rejects(self, field: &str) -> Value {
        assert!(matches!(self.status, 400 | 422), "{}: {}", self.status, self.body);
        let status = self.status;
        self.invalid(status, field)
    }

    /// Asserts a problem+json answer of `status` and returns it.
    #[track_caller]
    pub fn problem(self, status: u16) -> Value {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{}", self.body);
        for field in ["type", "title", "status", "detail"] {
            assert!(self.body.get(field).is_some(), "problem without {field}: {}", self.body);
        }
        self.body
    }
}

impl Api {
    /// This client, credential and all, talking to `server` (another one over the same
    /// database, say, after a restart).
    pub fn on(&self, server: &TestServer) -> Api {
        Api { base: server.base.clone(), ..self.clone() }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send(self.request(Method::GET, path))
    }

    pub fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path).json(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(self.request(Method::PUT, path).json(body))
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send(self.request(Method::DELETE, path))
    }

    /// A POST with an `Idempotency-Key`.
    pub fn post_keyed(&self, path: &str, key: &str, body: &Value) -> Reply {
        self.send(self.request(Method::POST, path).header("Idempotency-Key", key).json(body))
    }

    /// A PUT with an `If-Match` header as given.
    pub fn put_if_match(&self, path: &str, if_match: &str, body: &Value) -> Reply {
        self.send(self.request(Method::PUT, path).header("If-Match", if_match).json(body))
    }

    /// A request of `method` whose body is `text` as given, sent as JSON.
    pub fn send_text(&self, method: Method, path: &str, text: &str) -> Reply {
        let request = self.request(method, path).header("content-type", "application/json").body(text.to_owned());
        self.send(request)
    }

    /// A request under `/api/v1` to finish by hand (headers, raw bodies), then [`Api::send`].
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.raw(method, &format!("/api/v1{path}"))
    }

    /// A request to a path outside `/api/v1`.
    pub fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.client.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn send(&self, request: RequestBuilder) -> Reply {
        let response = request.send().expect("the server answers");
        let (status, headers) = (response.status().as_u16(), response.headers().clone());
        let text = response.text().expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        Reply { status, headers, body }
    }
}
