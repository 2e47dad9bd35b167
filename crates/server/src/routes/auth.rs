//! `POST /auth/login`: a session token for an email and password. Every failure answers the
//! same, whether or not the email exists; repeated failures per account and per address
//! wait (429).

use axum::{Router, extract::State, http::Request, response::Response, routing::post};
use serde::Deserialize;

use super::ok;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::Json,
    limits,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/auth/login", post(login))
}

async fn login(State(state): State<AppState>, request: Request<axum::body::Body>) -> ApiResult<Response> {
    let address = limits::peer(&request);
    let Json(Login { email, password }) =
        <Json<Login> as axum::extract::FromRequest<AppState>>::from_request(request, &state).await?;
    let keys = [format!("account:{}", email.trim().to_lowercase()), format!("address:{address:?}")];
    if let Some(wait) = state.logins().wait(&keys) {
        return Err(ApiError::too_many(wait.as_secs_f64().ceil() as u64));
    }
    match state.call(move |store| store.auth().login(&email, &password)).await {
        Ok(token) => {
            state.logins().succeeded(&keys[0]);
            Ok(ok(&token))
        }
        Err(e) => {
            if e.status() == axum::http::StatusCode::UNAUTHORIZED {
                state.logins().failed(&keys);
            }
            Err(e)
        }
    }
}
