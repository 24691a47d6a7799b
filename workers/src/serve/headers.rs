//! The security headers on every response of `ripcord serve`.
//!
//! Each response gets `X-Content-Type-Options: nosniff` (a body is only
//! ever what its Content-Type says) and `Referrer-Policy: no-referrer`
//! (execution ids stay out of other sites' logs), and one
//! Content-Security-Policy:
//! - [`DASHBOARD_CSP`] on the dashboard's page and files: its own scripts,
//!   styles and API only. The page has no inline script or style and no
//!   `style` attribute (the scripts set `element.style`, which CSP allows),
//!   and its icon is a `data:` image.
//! - [`REPORT_CSP`] on the HTML drill report: a self-contained document
//!   (it is also written to files) whose one `<style>` is inline, and no
//!   script at all.
//! - [`API_CSP`] on everything else (JSON, SSE, Markdown, SVG, metrics):
//!   nothing in those is to be run or loaded.

use axum::http::{HeaderValue, header};
use axum::response::Response;

pub const DASHBOARD_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub const REPORT_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

pub const API_CSP: &str = "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
     form-action 'none'";

/// Adds the headers every response carries; a response that chose its own
/// Content-Security-Policy keeps it, any other gets [`API_CSP`].
pub async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(API_CSP));
    response
}
