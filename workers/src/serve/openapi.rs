//! The OpenAPI document of `ripcord serve`, generated from the handlers'
//! annotations and the types they exchange; served at `/api/openapi.json`.

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
        super::executions::approve,
        super::operator::retry,
        super::operator::skip,
        super::operator::pause,
        super::operator::resume,
        super::health::healthz,
        super::capacity::capacity,
        super::preflight::preflight,
        super::prometheus::metrics,
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
        (name = "executions", description = "Executions: list, status, live events, start, cancel, approve, and operator control (retry, skip, pause, resume)"),
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

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi()
        .to_pretty_json()
        .expect("the OpenAPI document always serializes")
}
