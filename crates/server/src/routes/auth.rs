//! `POST /auth/login`: a session token for an email and password. Every failure answers the
//! same, whether or not the email exists; repeated failures per account and per address
//! wait (429).

use axum::{extract::State, http::Request, response::Response};
use serde::Deserialize;
use stockyard_core::auth::AccessToken;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::ok;
use crate::{
    AppState,
    error::{ApiError, ApiResult},
    extract::Json,
    limits,
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

/// A session token (JWT) for an email and password.
#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "auth",
    security(()),
    request_body = Login,
    responses(
        (status = 200, description = "A session token", body = AccessToken),
        (status = 401, description = "Wrong email or password (the same answer whether or not the email exists)"),
        (status = 429, description = "Too many failed logins for this account or address; try again after `Retry-After`"),
    ),
)]
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
