//! Products, categories and warehouses.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use stockyard_core::{
    Category, NewCategory, NewProduct, NewWarehouse, Page, Product, ProductPatch, ProductQuery, Warehouse,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{created, ok, versioned, with_etag};
use crate::{
    AppState,
    error::ApiResult,
    extract::{Caller, Json, Params, if_match},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_products, create_product))
        .routes(routes!(product, update_product, delete_product))
        .routes(routes!(categories, create_category))
        .routes(routes!(warehouses, create_warehouse))
}

/// A page of products matching every filter given.
#[utoipa::path(
    get,
    path = "/products",
    tag = "catalog",
    params(
        ("search" = Option<String>, Query, description = "Full-text search over SKU, name and description; every word must match as a prefix"),
        ("category" = Option<String>, Query, description = "A category id or name; its subcategories are included"),
        ("min_price" = Option<String>, Query, description = "Inclusive lower price bound, a decimal"),
        ("max_price" = Option<String>, Query, description = "Inclusive upper price bound, a decimal"),
        ("attr.KEY" = Option<String>, Query, description = "Products whose attribute KEY equals this value: a free-form pattern, one parameter `attr.<name>` per attribute to match (e.g. `attr.color=blue`)"),
        ("limit" = Option<u32>, Query, description = "Items per page, 1 to 1000 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page"),
    ),
    responses((status = 200, description = "A page of products", body = Page<Product>)),
)]
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
    let page = state.act(caller, move |store, actor| store.catalog().list_products(actor, &query)).await?;
    Ok(ok(&page))
}

#[utoipa::path(
    get,
    operation_id = "get_product",
    path = "/products/{key}",
    tag = "catalog",
    params(("key" = String, Path, description = "The product's id or SKU")),
    responses((status = 200, description = "The product; `ETag` is its version", body = Product, headers(("ETag" = String)))),
)]
async fn product(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    let product = state.act(caller, move |store, actor| store.catalog().product(actor, &key)).await?;
    Ok(versioned(&product, product.version))
}

#[utoipa::path(
    post,
    path = "/products",
    tag = "catalog",
    request_body = NewProduct,
    responses(
        (status = 201, description = "Created; `ETag` is its version", body = Product, headers(("ETag" = String))),
        (status = 404, description = "No such category"),
        (status = 409, description = "The SKU is taken"),
    ),
)]
async fn create_product(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewProduct>,
) -> ApiResult<Response> {
    let product = state
        .act(caller, move |store, actor| store.catalog().create_product(actor, input))
        .await
        .map_err(|e| e.naming("attribute_key", "attributes"))?;
    Ok(with_etag(created(&product), product.version))
}

#[utoipa::path(
    put,
    path = "/products/{key}",
    tag = "catalog",
    params(
        ("key" = String, Path, description = "The product's id or SKU"),
        ("If-Match" = Option<String>, Header, description = "Update only if the product is still at this version (its `ETag`)"),
    ),
    request_body = ProductPatch,
    responses(
        (status = 200, description = "Updated; `ETag` is its new version", body = Product, headers(("ETag" = String))),
        (status = 409, description = "A conflict, e.g. a barcode another product has"),
        (status = 412, description = "`If-Match` names an old version; `current_version` is the product's"),
    ),
)]
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
    let product = state
        .act(caller, move |store, actor| store.catalog().update_product(actor, &key, patch))
        .await
        .map_err(|e| e.naming("attribute_key", "attributes"))?;
    Ok(versioned(&product, product.version))
}

#[utoipa::path(
    delete,
    path = "/products/{key}",
    tag = "catalog",
    params(("key" = String, Path, description = "The product's id or SKU")),
    responses(
        (status = 204, description = "Deleted (soft)"),
        (status = 409, description = "The product has stock or open orders"),
    ),
)]
async fn delete_product(State(state): State<AppState>, caller: Caller, Path(key): Path<String>) -> ApiResult<Response> {
    state.act(caller, move |store, actor| store.catalog().delete_product(actor, &key)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(
    get,
    operation_id = "list_categories",
    path = "/categories",
    tag = "catalog",
    responses((status = 200, description = "Every category", body = Page<Category>)),
)]
async fn categories(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = state.act(caller, move |store, actor| store.catalog().categories(actor)).await?;
    Ok(ok(&super::unpaged(items)))
}

#[utoipa::path(
    post,
    path = "/categories",
    tag = "catalog",
    request_body = NewCategory,
    responses(
        (status = 201, description = "Created", body = Category),
        (status = 404, description = "No such parent category"),
        (status = 409, description = "The name is taken"),
    ),
)]
async fn create_category(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewCategory>,
) -> ApiResult<Response> {
    Ok(created(&state.act(caller, move |store, actor| store.catalog().create_category(actor, input)).await?))
}

#[utoipa::path(
    get,
    operation_id = "list_warehouses",
    path = "/warehouses",
    tag = "catalog",
    responses((status = 200, description = "Every warehouse the caller may see", body = Page<Warehouse>)),
)]
async fn warehouses(State(state): State<AppState>, caller: Caller) -> ApiResult<Response> {
    let items = state.act(caller, move |store, actor| store.warehouses().list(actor)).await?;
    Ok(ok(&super::unpaged(items)))
}

#[utoipa::path(
    post,
    path = "/warehouses",
    tag = "catalog",
    request_body = NewWarehouse,
    responses(
        (status = 201, description = "Created", body = Warehouse),
        (status = 409, description = "The code is taken"),
    ),
)]
async fn create_warehouse(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewWarehouse>,
) -> ApiResult<Response> {
    let made = state
        .act(caller, move |store, actor| store.warehouses().create(actor, input))
        .await
        .map_err(|e| e.naming("warehouse_code", "code"))?;
    Ok(created(&made))
}
