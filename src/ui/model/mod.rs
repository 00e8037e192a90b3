//! UI-side models: what the views draw, with derived data (filtered and sorted row lists, the
//! replayed state at the cursor) cached and rebuilt only when their inputs change.

pub mod executions;
pub mod fleet;
pub mod rerun;
pub mod restore;
pub mod tenants;
pub mod timetravel;
pub mod upgrade;

/// Case-insensitive "contains", for filter fields (`needle` already lowercased).
pub fn matches(haystack: &str, needle_lower: &str) -> bool {
    needle_lower.is_empty() || haystack.to_lowercase().contains(needle_lower)
}
