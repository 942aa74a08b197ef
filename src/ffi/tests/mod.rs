//! Unit tests of the C ABI layer that need no network and no client:
//! property list functions, conversions, and the shared guards.

mod async_entry_points;
mod callbacks;
mod entry_points;
mod guards;
mod properties;
