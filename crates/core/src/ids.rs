//! Typed UUIDv7 identifiers: time-ordered, so they index well and never collide across instances.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident = $entity:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = crate::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| crate::Error::invalid(concat!($entity, " id"), format!("{s:?} is not a UUID")))
            }
        }
    )*};
}

id_type! {
    /// A product's id.
    ProductId = "product";
    /// A category's id.
    CategoryId = "category";
    /// A warehouse's id (its `code` is the human handle).
    WarehouseId = "warehouse";
    /// A reservation's id.
    ReservationId = "reservation";
    /// A user's id (the email is the human handle).
    UserId = "user";
    /// An API token's id (the name is the human handle).
    ApiTokenId = "token";
    /// An order's id (its number is the human handle).
    OrderId = "order";
    /// A notification's id: also its delivery id.
    NotificationId = "notification";
    /// A webhook subscription's id.
    WebhookId = "webhook";
}
