//! sluice's HTTP edge: problem+json errors, tenant extraction, JSON bodies
//! that fail with the field's name, `If-Match` preconditions and opaque
//! pagination tokens. Shared by every HTTP function.

pub mod body;
mod errors;
pub mod page_token;
pub mod pagination;
pub mod path;
pub mod precondition;
pub mod problem;
pub mod tenant;

pub use body::{JsonBody, OptionalJsonBody};
pub use page_token::PageTokenCodec;
pub use pagination::PageRequest;
pub use path::{PathId, PathIdAndName};
pub use precondition::IfMatch;
pub use problem::Problem;
pub use tenant::{Tenant, TenantMode};
