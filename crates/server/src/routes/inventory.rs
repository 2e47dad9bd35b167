//! Stock levels, adjustments, transfers and reservations.

use axum::{
    extract::{Path, State},
    response::Response,
};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use stockyard_core::{
    Adjustment, Error, Page, StockLevel, StockQuery, Transfer as Moved,
    inventory::{Hold, Reservation, ReserveRequest},
};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, ok};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(levels))
        .routes(routes!(product_levels))
        .routes(routes!(reserve))
        .routes(routes!(release))
        .routes(routes!(adjust))
        .routes(routes!(transfer))
        .routes(routes!(reservation))
}

/// Stock levels by SKU, then warehouse; a caller scoped to warehouses sees only theirs.
#[utoipa::path(
    get,
    operation_id = "list_stock_levels",
    path = "/inventory",
    tag = "inventory",
    params(
        ("sku" = Option<String>, Query, description = "Only this product (SKU or id)"),
        ("warehouse" = Option<String>, Query, description = "Only this warehouse (its code)"),
        ("low_stock" = Option<bool>, Query, description = "Only levels at or below their reorder point"),
        ("at" = Option<String>, Query, description = "Levels as they were at this time (RFC 3339), from the ledger"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses((status = 200, description = "A page of stock levels", body = Page<StockLevel>)),
)]
async fn levels(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    let query = StockQuery {
        sku: params.text("sku"),
        warehouse: params.text("warehouse"),
        low: params.flag("low_stock")?,
        at: params.parse("at")?,
        limit: page.limit,
        cursor: page.cursor,
    };
    Ok(ok(&state.act(caller, move |store, actor| store.inventory().levels(actor, &query)).await?))
}

/// One product's stock: the totals over the warehouses the caller may see, and each level.
#[derive(Serialize, ToSchema)]
struct ProductStock {
    product_id: String,
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    items: Vec<StockLevel>,
    next_cursor: Option<String>,
}

#[utoipa::path(
    get,
    operation_id = "get_product_stock",
    path = "/inventory/{product}",
    tag = "inventory",
    params(("product" = String, Path, description = "The product's id or SKU")),
    responses((status = 200, description = "The product's stock, in total and per warehouse", body = ProductStock)),
)]
async fn product_levels(
    State(state): State<AppState>,
    caller: Caller,
    Path(product): Path<String>,
) -> ApiResult<Response> {
    let (product, levels) = state
        .act(caller, move |store, actor| {
            let product = store.catalog().product(actor, &product)?;
            let mut levels = Vec::new();
            let mut query = StockQuery { sku: Some(product.id.to_string()), limit: Some(1000), ..Default::default() };
            loop {
                let page = store.inventory().levels(actor, &query)?;
                levels.extend(page.items);
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => return Ok((product, levels)),
                }
            }
        })
        .await?;
    let sum = |f: fn(&StockLevel) -> i64| levels.iter().map(f).sum();
    Ok(ok(&ProductStock {
        product_id: product.id.to_string(),
        sku: product.sku.to_string(),
        on_hand: sum(|l| l.on_hand),
        reserved: sum(|l| l.reserved),
        available: sum(|l| l.available),
        items: levels,
        next_cursor: None,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Reserve {
    items: Vec<ReserveItem>,
    ttl_seconds: Option<i64>,
    reference: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ReserveItem {
    sku: String,
    quantity: i64,
    warehouse: Option<String>,
}

/// Holds stock for a checkout: released on its own when `ttl_seconds` (default: the
/// server's reservation TTL) pass.
#[utoipa::path(
    post,
    operation_id = "reserve_stock",
    path = "/inventory/reserve",
    tag = "inventory",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the first response and changes nothing"),
    ),
    request_body = Reserve,
    responses(
        (status = 201, description = "Reserved", body = Reservation),
        (status = 404, description = "No such product or warehouse"),
        (status = 409, description = "Not enough stock; `lines` names each short line"),
    ),
)]
async fn reserve(State(state): State<AppState>, caller: Caller, Json(body): Json<Reserve>) -> ApiResult<Response> {
    // The core reserves a request at one warehouse or lets its strategy choose: items may
    // name a warehouse, the same one.
    let mut warehouse: Option<String> = None;
    for (i, item) in body.items.iter().enumerate() {
        if let Some(code) = &item.warehouse {
            match &warehouse {
                Some(first) if !first.eq_ignore_ascii_case(code) => {
                    let reason = format!("{code} differs from {first}: reserve from one warehouse per request");
                    return Err(Error::invalid(format!("items[{i}].warehouse"), reason).into());
                }
                _ => warehouse = Some(code.clone()),
            }
        }
    }
    let request = ReserveRequest {
        lines: body.items.into_iter().map(|i| (i.sku, i.quantity)).collect(),
        warehouse,
        hold: body.ttl_seconds.map_or(Hold::Checkout, |s| Hold::CheckoutFor(SignedDuration::from_secs(s))),
        reference: body.reference,
    };
    let held = state
        .act(caller.keyed()?, move |store, actor| store.inventory().reserve(actor, request))
        .await
        .map_err(|e| e.naming("ttl", "ttl_seconds").naming("warehouse_code", "items[0].warehouse"))?;
    Ok(created(&held))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Release {
    reservation_id: String,
}

#[utoipa::path(
    post,
    operation_id = "release_reservation",
    path = "/inventory/release",
    tag = "inventory",
    request_body = Release,
    responses(
        (status = 200, description = "Released", body = Reservation),
        (status = 404, description = "No such reservation, or one the caller may not see"),
        (status = 409, description = "The reservation is held by an order, or no longer active"),
    ),
)]
async fn release(State(state): State<AppState>, caller: Caller, Json(body): Json<Release>) -> ApiResult<Response> {
    Ok(ok(&state.act(caller, move |store, actor| store.inventory().release(actor, &body.reservation_id)).await?))
}

#[utoipa::path(
    get,
    operation_id = "get_reservation",
    path = "/inventory/reservations/{id}",
    tag = "inventory",
    params(("id" = String, Path, description = "The reservation's id")),
    responses((status = 200, description = "The reservation", body = Reservation)),
)]
async fn reservation(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    Ok(ok(&state.act(caller, move |store, actor| store.inventory().reservation(actor, &id)).await?))
}

/// Exactly one of `delta` and `set`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Adjust {
    sku: String,
    warehouse: Option<String>,
    delta: Option<i64>,
    set: Option<i64>,
    reason: String,
}

#[utoipa::path(
    post,
    operation_id = "adjust_stock",
    path = "/inventory/adjust",
    tag = "inventory",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the first response and changes nothing"),
    ),
    request_body = Adjust,
    responses(
        (status = 200, description = "The level after the adjustment", body = StockLevel),
        (status = 404, description = "No such product or warehouse"),
        (status = 409, description = "On-hand would fall below zero or below what is reserved"),
    ),
)]
async fn adjust(State(state): State<AppState>, caller: Caller, Json(body): Json<Adjust>) -> ApiResult<Response> {
    let adjustment = match (body.delta, body.set) {
        (Some(delta), None) => Adjustment::By(delta),
        (None, Some(set)) => Adjustment::Set(set),
        _ => return Err(Error::invalid("delta", "give exactly one of delta and set").into()),
    };
    let level = state
        .act(caller.keyed()?, move |store, actor| {
            store.inventory().adjust(actor, &body.sku, body.warehouse.as_deref(), adjustment, &body.reason)
        })
        .await
        .map_err(|e| e.naming("by", "delta").naming("warehouse_code", "warehouse"))?;
    Ok(ok(&level))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = TransferRequest)]
#[serde(deny_unknown_fields)]
struct Transfer {
    sku: String,
    from: String,
    to: String,
    quantity: i64,
}

#[utoipa::path(
    post,
    operation_id = "transfer_stock",
    path = "/inventory/transfer",
    tag = "inventory",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key answers the first response and changes nothing"),
    ),
    request_body = Transfer,
    responses(
        (status = 200, description = "Both levels after the transfer", body = Moved),
        (status = 404, description = "No such product or warehouse"),
        (status = 409, description = "Not enough available stock at `from`"),
    ),
)]
async fn transfer(State(state): State<AppState>, caller: Caller, Json(body): Json<Transfer>) -> ApiResult<Response> {
    let moved = state
        .act(caller.keyed()?, move |store, actor| {
            store.inventory().transfer(actor, &body.sku, body.quantity, &body.from, &body.to)
        })
        .await?;
    Ok(ok(&moved))
}
