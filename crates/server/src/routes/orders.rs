//! Orders: placing, reading, changing details and status, payments, cancellation, returns
//! and refunds.

use axum::{
    Router,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post, put},
};
use serde::Deserialize;
use stockyard_core::{
    Error, OrderStatus,
    orders::{Customer, NewOrder, OrderPatch, OrderQuery, ReturnLine},
};

use super::{created, ok, versioned, with_etag};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params, if_match},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/orders", get(list).post(create))
        .route("/orders/{id}", get(order).put(update))
        .route("/orders/{id}/status", put(status))
        .route("/orders/{id}/payments", post(pay))
        .route("/orders/{id}/cancel", post(cancel))
        .route("/orders/{id}/returns", post(returns))
        .route("/orders/{id}/refunds", post(refund))
}

async fn list(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    let query = OrderQuery {
        status: params.parse::<OrderStatus>("status")?,
        customer: params.text("customer"),
        limit: page.limit,
        cursor: page.cursor,
    };
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.orders().list(&actor, &query)).await?))
}

async fn order(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    let order = state.call(move |store| store.orders().order(&actor, &id)).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Place {
    customer: CustomerIn,
    lines: Vec<LineIn>,
    warehouse: Option<String>,
    reservation_id: Option<String>,
    notes: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CustomerIn {
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineIn {
    sku: String,
    quantity: i64,
}

async fn create(State(state): State<AppState>, caller: Caller, Json(body): Json<Place>) -> ApiResult<Response> {
    let Some(email) = body.customer.email else {
        return Err(Error::invalid("customer.email", "missing: an order needs the customer's email").into());
    };
    let input = NewOrder {
        customer: Customer {
            email,
            name: body.customer.name,
            phone: body.customer.phone,
            address: body.customer.address,
        },
        lines: body.lines.into_iter().map(|l| (l.sku, l.quantity)).collect(),
        warehouse: body.warehouse,
        reservation: body.reservation_id,
        notes: body.notes,
    };
    let actor = caller.keyed()?;
    let order = state
        .call(move |store| store.orders().create(&actor, input))
        .await
        .map_err(|e| e.naming("items", "lines").naming("warehouse_code", "warehouse"))?;
    Ok(with_etag(created(&order), order.version))
}

/// New customer details or notes: flat, or the customer's under `customer` as when placing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    #[serde(default)]
    customer: CustomerIn,
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    address: Option<String>,
    notes: Option<String>,
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Update>,
) -> ApiResult<Response> {
    let patch = OrderPatch {
        email: body.customer.email.or(body.email),
        name: body.customer.name.or(body.name),
        phone: body.customer.phone.or(body.phone),
        address: body.customer.address.or(body.address),
        notes: body.notes,
        expected_version: if_match(&headers)?,
    };
    let actor = caller.actor();
    let order = state.call(move |store| store.orders().update(&actor, &id, patch)).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusIn {
    status: OrderStatus,
    tracking_number: Option<String>,
}

async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<StatusIn>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let order = state
        .call(move |store| store.orders().set_status(&actor, &id, body.status, body.tracking_number.as_deref()))
        .await?;
    Ok(versioned(&order, order.version))
}

/// An amount as a decimal string (`"12.50"`) or a JSON number, read by its digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Text(String),
    Number(serde_json::Number),
}

impl Amount {
    fn text(self) -> String {
        match self {
            Amount::Text(text) => text,
            Amount::Number(number) => number.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PaymentIn {
    amount: Option<Amount>,
    reference: Option<String>,
}

async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PaymentIn>,
) -> ApiResult<Response> {
    let actor = caller.keyed()?;
    let amount = body.amount.map(Amount::text);
    let order =
        state.call(move |store| store.orders().pay(&actor, &id, amount.as_deref(), body.reference.as_deref())).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CancelIn {
    reason: Option<String>,
}

async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(CancelIn { reason }): Json<CancelIn>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let order = state.call(move |store| store.orders().cancel(&actor, &id, reason.as_deref())).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnsIn {
    lines: Vec<ReturnLineIn>,
    #[serde(default)]
    request_only: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReturnLineIn {
    sku: String,
    quantity: i64,
    /// Back on the shelf (the default), or written off.
    #[serde(default = "restock_by_default")]
    restock: bool,
}

fn restock_by_default() -> bool {
    true
}

async fn returns(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReturnsIn>,
) -> ApiResult<Response> {
    let lines: Vec<ReturnLine> =
        body.lines.into_iter().map(|l| ReturnLine { sku: l.sku, quantity: l.quantity, scrap: !l.restock }).collect();
    let actor = caller.actor();
    let order = state.call(move |store| store.orders().return_goods(&actor, &id, &lines, body.request_only)).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RefundIn {
    amount: Option<Amount>,
}

async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RefundIn>,
) -> ApiResult<Response> {
    let amount = body.amount.map(Amount::text);
    let actor = caller.actor();
    let order = state.call(move |store| store.orders().refund(&actor, &id, amount.as_deref())).await?;
    Ok(versioned(&order, order.version))
}
