//! Credentials that must not work, on every route of the API's own document, on both
//! backends: a tampered signature, `alg: none`, an expired session, a disabled user's, a
//! session from before a role or password change, a revoked API token, and no token at
//! all — each answered 401 problem+json, whatever the route. Those that need the database
//! to tell (revoked, disabled, changed since) are checked in the call's own turn, after the
//! body is read: a body of the wrong shape is refused first, as it would be for anyone.

use jiff::{SignedDuration, Timestamp};
use reqwest::Method;
use serde_json::json;
use stockyard_core::{Actor, ManualClock, Role, auth::NewApiToken};
use stockyard_testkit::backend_tests;

use crate::common::{PASSWORD, TestServer};

/// `{"alg":"none","typ":"JWT"}`, base64url: a token that claims to need no signature.
const ALG_NONE: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

/// Every route the document lists, its path parameters filled with a made-up id, except
/// those that take no token.
fn routes() -> Vec<(Method, String)> {
    let document = serde_json::to_value(stockyard_server::openapi()).expect("the document");
    let mut routes = Vec::new();
    for (path, operations) in document["paths"].as_object().into_iter().flatten() {
        if ["/api/v1/auth/login", "/api/v1/openapi.json", "/healthz", "/readyz"].contains(&path.as_str()) {
            continue;
        }
        let filled = path
            .split('/')
            .map(|part| if part.starts_with('{') { "01a23727-0799-7152-a383-1dd4725e21aa" } else { part })
            .collect::<Vec<_>>()
            .join("/");
        for method in operations.as_object().into_iter().flatten().map(|(m, _)| m) {
            routes.push((Method::from_bytes(method.to_uppercase().as_bytes()).expect("a method"), filled.clone()));
        }
    }
    routes
}

/// A session token of `email`, logged in over HTTP.
fn session(server: &TestServer, email: &str) -> String {
    let reply = server.anonymous().post("/auth/login", &json!({ "email": email, "password": PASSWORD }));
    reply.body["access_token"].as_str().expect("a token").to_owned()
}

backend_tests! {
    fn refused_credentials_are_401_on_every_route(db) {
        let server = TestServer::start(db);
        let me = Actor::local_admin();
        let users = server.store.users();
        for email in ["fired@example.com", "moved@example.com", "rekeyed@example.com"] {
            server.as_new_user(email, Role::Manager, &[]);
        }
        let valid = session(&server, "fired@example.com");
        let [header, payload, signature]: [&str; 3] = valid.split('.').collect::<Vec<_>>().try_into().expect("a JWT");
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{header}.{payload}.{flipped}{}", &signature[1..]);
        let unsigned = format!("{ALG_NONE}.{payload}.");

        // Signed two hours ago (by a store whose clock stands then): an hour past its expiry.
        let then = db.store_at(&ManualClock::new(Timestamp::now() - SignedDuration::from_hours(2)));
        let expired = then.auth().login("moved@example.com", PASSWORD).expect("an old login").access_token;

        let disabled = session(&server, "fired@example.com");
        users.set_active(&me, "fired@example.com", false).expect("disable");
        let before_role = session(&server, "moved@example.com");
        users.set_role(&me, "moved@example.com", Role::Viewer).expect("role");
        let before_password = session(&server, "rekeyed@example.com");
        users.set_password(&me, "rekeyed@example.com", "another long passphrase").expect("password");
        let token = NewApiToken { name: "gone".into(), role: Role::Admin, warehouses: vec![], expires_in: None };
        let revoked = server.store.auth().create_token(&me, token).expect("token").secret;
        server.store.auth().revoke_token(&me, "gone").expect("revoke");

        // Told without the database: refused before the body is read.
        let forged = [
            ("tampered signature", Some(tampered)),
            ("alg none", Some(unsigned)),
            ("expired", Some(expired)),
            ("not a token", Some("not.a.token".to_owned())),
            ("no token", None),
        ];
        // Told by the database, in the call's turn.
        let stale = [
            ("disabled user", Some(disabled)),
            ("before a role change", Some(before_role)),
            ("before a password change", Some(before_password)),
            ("revoked API token", Some(revoked)),
        ];
        let routes = routes();
        assert!(routes.len() >= 40, "{routes:?}");
        let admin = server.admin();
        let send = |api: &crate::common::Api, method: &Method, path: &str| {
            let path = path.trim_start_matches("/api/v1");
            let mut request =
                if path.starts_with("/metrics") { api.raw(method.clone(), path) } else { api.request(method.clone(), path) };
            if [Method::POST, Method::PUT].contains(method) {
                request = request.json(&json!({}));
            }
            api.send(request)
        };
        for (method, path) in &routes {
            // (The event stream answers the admin with a stream that never ends.)
            let for_admin = if path.ends_with("/events/stream") { 200 } else { send(&admin, method, path).status };
            assert_ne!(for_admin, 401, "{method} {path}: the admin's token works");
            for (what, token) in forged.iter().chain(&stale) {
                let api = token.as_deref().map_or_else(|| server.anonymous(), |t| server.with_token(t));
                let reply = send(&api, method, path);
                // A stale credential may meet a body of the wrong shape first, never more.
                let body_first = stale.iter().any(|(w, _)| w == what) && matches!(for_admin, 400 | 422);
                let allowed = reply.status == 401 || (body_first && reply.status == for_admin);
                assert!(allowed, "{what}: {method} {path} → {}: {}", reply.status, reply.body);
                assert_eq!(reply.header("content-type"), Some("application/problem+json"), "{what}: {method} {path}");
            }
        }
    }
}
