//! What sluice is about: sources, jobs, schedules and runs, with the rules
//! that keep each valid. No port and no service is imported here.

/// An id that is a prefix and a ULID in canonical form (`job_01J…`): the
/// newtype, `parse` (only ids this system could have generated), `generate`,
/// `as_str`, serde as the string (parsed), `Display` as the string and a
/// `Debug` that names the type.
macro_rules! ulid_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                Self(format!("{}{}", Self::PREFIX, ulid::Ulid::new()))
            }

            /// Accepts only ids this system could have generated (the
            /// canonical form, so one record has exactly one id string).
            pub fn parse(raw: &str) -> Option<Self> {
                let ulid = raw.strip_prefix(Self::PREFIX)?;
                let parsed = ulid::Ulid::from_string(ulid).ok()?;
                (parsed.to_string() == ulid).then(|| Self(raw.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(&raw).ok_or_else(|| format!("{raw:?} is not a {}", $what))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

pub mod catalog;
pub mod delivery;
pub mod discovery;
pub mod ids;
pub mod job;
pub mod notification;
pub mod report;
pub mod run;
pub mod schedule;
pub mod secrets;
pub mod selection;
pub mod source;
pub mod tenant;
pub mod trigger_event;
pub mod validation;
