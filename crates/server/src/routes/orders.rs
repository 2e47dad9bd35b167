//! Orders: placing, reading, changing details and status, payments, picking, cancellation,
//! returns and refunds.

use axum::{
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
};
use serde::Deserialize;
use stockyard_core::{
    Error, Order, OrderStatus, Page,
    orders::{Customer, NewOrder, OrderPatch, OrderQuery, ReturnLine},
};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, ok, versioned, with_etag};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params, if_match},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(order, update))
        .routes(routes!(status))
        .routes(routes!(pay))
        .routes(routes!(pick))
        .routes(routes!(cancel))
        .routes(routes!(returns))
        .routes(routes!(refund))
}

/// A page of the orders the caller may see, newest first.
#[utoipa::path(
    get,
    operation_id = "list_orders",
    path = "/orders",
    tag = "orders",
    params(
        ("status" = Option<OrderStatus>, Query, description = "Only orders in this state"),
        ("customer" = Option<String>, Query, description = "Only this customer's orders (their email)"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses((status = 200, description = "A page of orders", body = Page<Order>)),
)]
async fn list(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    let query = OrderQuery {
        status: params.parse::<OrderStatus>("status")?,
        customer: params.text("customer"),
        limit: page.limit,
        cursor: page.cursor,
    };
    Ok(ok(&state.act(caller, move |store, actor| store.orders().list(actor, &query)).await?))
}

#[utoipa::path(
    get,
    operation_id = "get_order",
    path = "/orders/{id}",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    responses(
        (status = 200, description = "The order; `ETag` is its version", body = Order, headers(("ETag" = String))),
    ),
)]
async fn order(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let order = state.act(caller, move |store, actor| store.orders().order(actor, &id)).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = PlaceOrder)]
#[serde(deny_unknown_fields)]
struct Place {
    customer: CustomerIn,
    lines: Vec<LineIn>,
    warehouse: Option<String>,
    reservation_id: Option<String>,
    notes: Option<String>,
}

#[derive(Deserialize, Default, ToSchema)]
#[schema(as = CustomerInput)]
#[serde(deny_unknown_fields)]
struct CustomerIn {
    email: Option<String>,
    name: Option<String>,
    phone: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = OrderLineInput)]
#[serde(deny_unknown_fields)]
struct LineIn {
    sku: String,
    quantity: i64,
}

/// Places an order: reserves its stock (or takes over `reservation_id`) and answers it `confirmed`.
#[utoipa::path(
    post,
    operation_id = "create_order",
    path = "/orders",
    tag = "orders",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the first response and changes nothing"),
    ),
    request_body = Place,
    responses(
        (status = 201, description = "Placed and confirmed (stock reserved); `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 404, description = "No such product, warehouse or reservation"),
        (status = 409, description = "Not enough stock; `lines` names each short line"),
    ),
)]
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
    let order = state
        .act(caller.keyed()?, move |store, actor| store.orders().create(actor, input))
        .await
        .map_err(|e| e.naming("items", "lines").naming("warehouse_code", "warehouse"))?;
    Ok(with_etag(created(&order), order.version))
}

/// New customer details or notes: flat, or the customer's under `customer` as when placing.
#[derive(Deserialize, ToSchema)]
#[schema(as = OrderUpdate)]
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

#[utoipa::path(
    put,
    operation_id = "update_order",
    path = "/orders/{id}",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
        ("If-Match" = Option<String>, Header, description = "Update only if the order is still at this version (its `ETag`)"),
    ),
    request_body = Update,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "The order has shipped"),
        (status = 412, description = "`If-Match` names an old version; `current_version` is the order's"),
    ),
)]
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
    let order = state.act(caller, move |store, actor| store.orders().update(actor, &id, patch)).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = StatusChangeRequest)]
#[serde(deny_unknown_fields)]
struct StatusIn {
    status: OrderStatus,
    tracking_number: Option<String>,
}

#[utoipa::path(
    put,
    operation_id = "set_order_status",
    path = "/orders/{id}/status",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    request_body = StatusIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "Not a transition the order's state allows"),
    ),
)]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<StatusIn>,
) -> ApiResult<Response> {
    let order = state
        .act(caller, move |store, actor| {
            store.orders().set_status(actor, &id, body.status, body.tracking_number.as_deref())
        })
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

impl utoipa::PartialSchema for Amount {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
        OneOfBuilder::new()
            .item(ObjectBuilder::new().schema_type(Type::String).examples(["12.50"]))
            .item(ObjectBuilder::new().schema_type(Type::Number))
            .description(Some("A decimal amount: a string (`\"12.50\"`), or a JSON number read by its digits"))
            .into()
    }
}

impl ToSchema for Amount {}

impl Amount {
    fn text(self) -> String {
        match self {
            Amount::Text(text) => text,
            Amount::Number(number) => number.to_string(),
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = PaymentRequest)]
#[serde(deny_unknown_fields)]
struct PaymentIn {
    amount: Option<Amount>,
    reference: Option<String>,
}

#[utoipa::path(
    post,
    operation_id = "pay_order",
    path = "/orders/{id}/payments",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the first response and changes nothing"),
    ),
    request_body = PaymentIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "Not allowed in the order's state"),
    ),
)]
async fn pay(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PaymentIn>,
) -> ApiResult<Response> {
    let amount = body.amount.map(Amount::text);
    let order = state
        .act(caller.keyed()?, move |store, actor| {
            store.orders().pay(actor, &id, amount.as_deref(), body.reference.as_deref())
        })
        .await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = PickRequest)]
#[serde(deny_unknown_fields)]
struct PickIn {
    /// The SKU (any case) or the product barcode scanned.
    sku: String,
    /// Units picked (default 1).
    quantity: Option<i64>,
    /// Where (default: the only warehouse serving the line where the caller may pick).
    warehouse: Option<String>,
}

/// Records units of one line picked at one warehouse: a paid order becomes `picking`, and
/// `packed` once every allocation is picked.
#[utoipa::path(
    post,
    operation_id = "pick_order",
    path = "/orders/{id}/picks",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    request_body = PickIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "More than is left to pick, or the order is not paid or being picked"),
    ),
)]
async fn pick(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<PickIn>,
) -> ApiResult<Response> {
    let quantity = body.quantity.unwrap_or(1);
    let order = state
        .act(caller, move |store, actor| {
            store.orders().pick(actor, &id, &body.sku, quantity, body.warehouse.as_deref())
        })
        .await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = CancelRequest)]
#[serde(deny_unknown_fields)]
struct CancelIn {
    reason: Option<String>,
}

#[utoipa::path(
    post,
    operation_id = "cancel_order",
    path = "/orders/{id}/cancel",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    request_body = CancelIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "The order has shipped, or is cancelled already"),
    ),
)]
async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(CancelIn { reason }): Json<CancelIn>,
) -> ApiResult<Response> {
    let order = state.act(caller, move |store, actor| store.orders().cancel(actor, &id, reason.as_deref())).await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = ReturnsRequest)]
#[serde(deny_unknown_fields)]
struct ReturnsIn {
    lines: Vec<ReturnLineIn>,
    #[serde(default)]
    request_only: bool,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = ReturnLineInput)]
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

#[utoipa::path(
    post,
    operation_id = "return_goods",
    path = "/orders/{id}/returns",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    request_body = ReturnsIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "Not allowed in the order's state"),
    ),
)]
async fn returns(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ReturnsIn>,
) -> ApiResult<Response> {
    let lines: Vec<ReturnLine> =
        body.lines.into_iter().map(|l| ReturnLine { sku: l.sku, quantity: l.quantity, scrap: !l.restock }).collect();
    let order = state
        .act(caller, move |store, actor| store.orders().return_goods(actor, &id, &lines, body.request_only))
        .await?;
    Ok(versioned(&order, order.version))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = RefundRequest)]
#[serde(deny_unknown_fields)]
struct RefundIn {
    amount: Option<Amount>,
}

#[utoipa::path(
    post,
    operation_id = "refund_order",
    path = "/orders/{id}/refunds",
    tag = "orders",
    params(
        ("id" = String, Path, description = "The order's id"),
    ),
    request_body = RefundIn,
    responses(
        (status = 200, description = "The order after it; `ETag` is its version", body = Order, headers(("ETag" = String))),
        (status = 409, description = "Nothing (or less) is left to refund"),
    ),
)]
async fn refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<RefundIn>,
) -> ApiResult<Response> {
    let amount = body.amount.map(Amount::text);
    let order = state.act(caller, move |store, actor| store.orders().refund(actor, &id, amount.as_deref())).await?;
    Ok(versioned(&order, order.version))
}
