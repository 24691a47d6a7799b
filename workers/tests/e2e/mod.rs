//! Support for the dashboard's browser tests (`dashboard_e2e.rs`): headless
//! Chromium over WebDriver ([`browser`]) and the Ripcord processes the page
//! talks to ([`ripcord`]).

pub mod browser;
pub mod ripcord;
