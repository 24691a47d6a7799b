//! The state machine: the records it keeps and the pure `decide`.

mod records;

pub use records::*;
