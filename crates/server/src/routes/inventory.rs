//! Stock levels, adjustments, transfers and reservations.

use axum::{
    Router,
    extract::{Path, State},
    response::Response,
    routing::{get, post},
};
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use stockyard_core::{
    Adjustment, Error, StockLevel, StockQuery,
    inventory::{Hold, ReserveRequest},
};

use super::{created, ok};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inventory", get(levels))
        .route("/inventory/{product}", get(product_levels))
        .route("/inventory/reserve", post(reserve))
        .route("/inventory/release", post(release))
        .route("/inventory/adjust", post(adjust))
        .route("/inventory/transfer", post(transfer))
        .route("/inventory/reservations/{id}", get(reservation))
}

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
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.inventory().levels(&actor, &query)).await?))
}

/// One product's stock: the totals over the warehouses the caller may see, and each level.
#[derive(Serialize)]
struct ProductStock {
    product_id: String,
    sku: String,
    on_hand: i64,
    reserved: i64,
    available: i64,
    items: Vec<StockLevel>,
    next_cursor: Option<String>,
}

async fn product_levels(
    State(state): State<AppState>,
    caller: Caller,
    Path(product): Path<String>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let (product, levels) = state
        .call(move |store| {
            let product = store.catalog().product(&actor, &product)?;
            let mut levels = Vec::new();
            let mut query = StockQuery { sku: Some(product.id.to_string()), limit: Some(1000), ..Default::default() };
            loop {
                let page = store.inventory().levels(&actor, &query)?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Reserve {
    items: Vec<ReserveItem>,
    ttl_seconds: Option<i64>,
    reference: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReserveItem {
    sku: String,
    quantity: i64,
    warehouse: Option<String>,
}

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
    let actor = caller.keyed()?;
    let held = state
        .call(move |store| store.inventory().reserve(&actor, request))
        .await
        .map_err(|e| e.naming("ttl", "ttl_seconds").naming("warehouse_code", "items[0].warehouse"))?;
    Ok(created(&held))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Release {
    reservation_id: String,
}

async fn release(State(state): State<AppState>, caller: Caller, Json(body): Json<Release>) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.inventory().release(&actor, &body.reservation_id)).await?))
}

async fn reservation(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(ok(&state.call(move |store| store.inventory().reservation(&actor, &id)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Adjust {
    sku: String,
    warehouse: Option<String>,
    delta: Option<i64>,
    set: Option<i64>,
    reason: String,
}

async fn adjust(State(state): State<AppState>, caller: Caller, Json(body): Json<Adjust>) -> ApiResult<Response> {
    let adjustment = match (body.delta, body.set) {
        (Some(delta), None) => Adjustment::By(delta),
        (None, Some(set)) => Adjustment::Set(set),
        _ => return Err(Error::invalid("delta", "give exactly one of delta and set").into()),
    };
    let actor = caller.keyed()?;
    let level = state
        .call(move |store| {
            store.inventory().adjust(&actor, &body.sku, body.warehouse.as_deref(), adjustment, &body.reason)
        })
        .await
        .map_err(|e| e.naming("by", "delta").naming("warehouse_code", "warehouse"))?;
    Ok(ok(&level))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Transfer {
    sku: String,
    from: String,
    to: String,
    quantity: i64,
}

async fn transfer(State(state): State<AppState>, caller: Caller, Json(body): Json<Transfer>) -> ApiResult<Response> {
    let actor = caller.keyed()?;
    let moved = state
        .call(move |store| store.inventory().transfer(&actor, &body.sku, body.quantity, &body.from, &body.to))
        .await?;
    Ok(ok(&moved))
}
