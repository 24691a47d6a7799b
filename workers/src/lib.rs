//! The four workers (launch, poll, post-actions, metrics) and the pieces the
//! `ripcord` CLI puts together.

pub mod render;
