//! Products, categories and warehouses.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
};
use stockyard_core::{NewCategory, NewProduct, NewWarehouse, ProductPatch, ProductQuery};

use super::{created, ok, versioned, with_etag};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params, if_match},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/products", get(list_products).post(create_product))
        .route("/products/{key}", get(product).put(update_product).delete(delete_product))
        .route("/categories", get(categories).post(create_category))
        .route("/warehouses", get(warehouses).post(create_warehouse))
}

async fn list_products(State(state): State<AppState>, caller: Caller, params: Params) -> ApiResult<Response> {
    let page = params.page()?;
    let query = ProductQuery {
        search: params.text("search"),
        category: params.text("category"),
        min_price: params.text("min_price"),
        max_price: params.text("max_price"),
        attributes: params.prefixed("attr.").into_iter().collect(),
        limit: page.limit,
        cursor: page.cursor,
    };
    let actor = caller.actor();
    let page = state.call(move |store| store.catalog().list_products(&actor, &query)).await?;
    Ok(ok(&page))
}

async fn product(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    let product = state.call(move |store| store.catalog().product(&actor, &key)).await?;
    Ok(versioned(&product, product.version))
}

async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewProduct>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let product = state
        .call(move |store| store.catalog().create_product(&actor, input))
        .await
        .map_err(|e| e.naming("attribute_key", "attributes"))?;
    Ok(with_etag(created(&product), product.version))
}

async fn update_product(
    State(state): State<AppState>,
    caller: Caller,
    Path(key): Path<String>,
    headers: HeaderMap,
    Json(mut patch): Json<ProductPatch>,
) -> ApiResult<Response> {
    if let Some(version) = if_match(&headers)? {
        patch.expected_version = Some(version);
    }
    let actor = caller.actor();
    let product = state
        .call(move |store| store.catalog().update_product(&actor, &key, patch))
        .await
        .map_err(|e| e.naming("attribute_key", "attributes"))?;
    Ok(versioned(&product, product.version))
}

async fn delete_product(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    let actor = caller.actor();
    state.call(move |store| store.catalog().delete_product(&actor, &key)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn categories(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let actor = caller.actor();
    let items = state.call(move |store| store.catalog().categories(&actor)).await?;
    Ok(ok(&super::unpaged(items)))
}

async fn create_category(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewCategory>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    Ok(created(&state.call(move |store| store.catalog().create_category(&actor, input)).await?))
}

async fn warehouses(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let actor = caller.actor();
    let items = state.call(move |store| store.warehouses().list(&actor)).await?;
    Ok(ok(&super::unpaged(items)))
}

async fn create_warehouse(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewWarehouse>,
) -> ApiResult<Response> {
    let actor = caller.actor();
    let made = state
        .call(move |store| store.warehouses().create(&actor, input))
        .await
        .map_err(|e| e.naming("warehouse_code", "code"))?;
    Ok(created(&made))
}
