//! Enums named by strings (roles, actions, statuses, event types, …): one macro gives each
//! its `ALL`, `as_str`, `Display`, a case-insensitive `FromStr` whose error names the field
//! and every accepted name, and serde as that string.

/// `named! { /// doc  Type, "field" { Variant = "name", … } }`.
macro_rules! named {
    ($(#[$doc:meta])* $type:ident, $what:literal {
        $($(#[$vdoc:meta])* $variant:ident = $name:literal),* $(,)?
    }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $type { $($(#[$vdoc])* $variant),* }

        impl $type {
            pub const ALL: &[$type] = &[$($type::$variant),*];

            pub fn as_str(&self) -> &'static str {
                match self { $($type::$variant => $name),* }
            }
        }

        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $type {
            type Err = $crate::Error;
            fn from_str(s: &str) -> $crate::Result<Self> {
                let s = s.trim();
                Self::ALL.iter().find(|x| x.as_str().eq_ignore_ascii_case(s)).copied().ok_or_else(|| {
                    let names: Vec<_> = Self::ALL.iter().map(|x| x.as_str()).collect();
                    let hint = $crate::suggest::closest(s, names.iter().copied())
                        .map(|name| format!("; did you mean {name:?}?"))
                        .unwrap_or_default();
                    $crate::Error::invalid($what, format!("{s:?} is not one of {}{hint}", names.join(", ")))
                })
            }
        }

        impl serde::Serialize for $type {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::openapi::names(Self::ALL.iter().map(|x| x.as_str()))
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $type {}

        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use named;
