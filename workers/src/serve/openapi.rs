//! The OpenAPI document of `ripcord serve`, generated from the handlers'
//! annotations and the types they exchange; served at `/api/openapi.json`.
//! It must stay a valid OpenAPI 3.1 document that client generators take:
//! `workers/tests/openapi.rs` runs an independent validator on it, and the
//! test below holds it to the router's routes, both ways.

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ripcord",
        description = "Status, live events and control of Ripcord executions (AWS DRS drills and recoveries). Writes need `Authorization: Bearer <RIPCORD_API_TOKEN>`; reads are open unless the server protects them.",
    ),
    paths(
        super::executions::list,
        super::executions::get,
        super::events::events,
        super::report::report,
        super::executions::start,
        super::executions::cancel,
        super::cleanup::cleanup,
        super::executions::approve,
        super::operator::retry,
        super::operator::skip,
        super::operator::pause,
        super::operator::resume,
        super::health::healthz,
        super::capacity::capacity,
        super::preflight::preflight,
        super::prometheus::metrics,
        json,
    ),
    components(schemas(
        super::error::ErrorBody,
        ripcord::status::ExecutionView,
        ripcord::health::HealthReport,
        ripcord::capacity::CapacityView,
        ripcord::preflight::PreflightReport,
    )),
    modifiers(&BearerToken),
    tags(
        (name = "executions", description = "Executions: list, status, live events, start, cancel, approve, clean up, and operator control (retry, skip, pause, resume)"),
        (name = "operations", description = "Health, metrics and DRS capacity"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)", content_type = "application/json")),
)]
pub async fn json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document always serializes")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    /// The (method, path) pairs the API router serves, read from its
    /// source (`router` in serve/mod.rs; the dashboard's pages are not API).
    fn routed() -> BTreeSet<(String, String)> {
        let source: String = include_str!("mod.rs")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let mut routes = BTreeSet::new();
        for segment in source.split(".route(\"").skip(1) {
            let (path, rest) = segment.split_once('"').expect("a quoted path");
            let end = rest.find(".route(").unwrap_or(rest.len());
            let methods = &rest[..end];
            for method in METHODS {
                if methods.starts_with(&format!(",{method}("))
                    || methods.contains(&format!(").{method}("))
                {
                    routes.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        routes
    }

    fn documented() -> BTreeSet<(String, String)> {
        let doc: serde_json::Value = serde_json::from_str(&super::document()).unwrap();
        let mut routes = BTreeSet::new();
        for (path, operations) in doc["paths"].as_object().unwrap() {
            for method in operations.as_object().unwrap().keys() {
                routes.insert((method.clone(), path.clone()));
            }
        }
        routes
    }

    #[test]
    fn every_route_is_documented_and_every_documented_route_is_served() {
        let routed = routed();
        assert!(
            routed.len() >= 12,
            "the router's source was not read: {routed:?}"
        );
        let documented = documented();
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unserved: Vec<_> = documented.difference(&routed).collect();
        assert!(
            undocumented.is_empty() && unserved.is_empty(),
            "served but not in the OpenAPI document: {undocumented:?}; documented but not served: {unserved:?} (add the handler to `paths(...)` in serve/openapi.rs, or the route to serve/mod.rs)"
        );
    }

    #[test]
    fn the_health_status_enum_names_not_checked() {
        let doc: serde_json::Value = serde_json::from_str(&super::document()).unwrap();
        let values = &doc["components"]["schemas"]["HealthStatus"]["enum"];
        let names: Vec<&str> = values
            .as_array()
            .unwrap_or_else(|| panic!("HealthStatus is an enum: {values}"))
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "PENDING",
                "NOT_CHECKED",
                "CHECKING",
                "HEALTHY",
                "UNHEALTHY",
                "TIMEOUT"
            ]
        );
    }
}
