//! The API's errors: every one is a JSON body `{"error": {"code",
//! "message"}}` with a 4xx status when the request is at fault, and a 503
//! when the backend is (never a bare 500).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ripcord::ids::ExecutionId;
use ripcord::ports::queue::QueueError;
use ripcord::ports::store::StoreError;
use ripcord::reason::readable;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// For an invalid plan: each problem with its line and column.
    pub details: Vec<ErrorDetail>,
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorContent {
    /// A stable, machine-readable code (`not_found`, `invalid_plan`, ...).
    pub code: String,
    /// What happened and what to do.
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ErrorDetail {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "invalid_transition", message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "backend_unavailable",
            message,
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let unauthorized = self.status == StatusCode::UNAUTHORIZED;
        let body = ErrorBody {
            error: ErrorContent {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if unauthorized {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ripcord\""),
            );
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::unavailable(format!("the execution store failed: {e}"))
    }
}

impl From<QueueError> for ApiError {
    fn from(e: QueueError) -> Self {
        if e.is_permanent() {
            // Too large for any queue: the request is at fault, and no
            // retry of it helps.
            return Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large_to_queue",
                e.to_string(),
            );
        }
        Self::unavailable(format!("the launch queue failed: {e}"))
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        let status = match e.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(
            status,
            "bad_json",
            format!(
                "the request body is not the JSON this endpoint takes: {}; see /api/openapi.json",
                readable(&e.body_text(), MAX_QUOTED_TEXT)
            ),
        )
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!(
                "{}; see /api/openapi.json",
                readable(&e.body_text(), MAX_QUOTED_TEXT)
            ),
        )
    }
}

/// The most of a parser's message an error repeats: it may quote the
/// request (an unknown field of 40 KB, found by `tests/tests/fuzz_api.rs`).
pub const MAX_QUOTED_TEXT: usize = 512;

/// The execution id in a request path; a 404 when it is not one.
pub fn parse_id(id: &str) -> Result<ExecutionId, ApiError> {
    id.parse().map_err(|_| {
        ApiError::not_found(format!(
            "{} is not an execution id (a UUID); GET /api/executions lists them",
            ripcord::reason::quoted(id)
        ))
    })
}

/// The 404 for an execution id with no execution behind it.
pub fn unknown_execution(id: ExecutionId) -> ApiError {
    ApiError::not_found(format!(
        "no execution {id}; GET /api/executions lists the ones there are"
    ))
}
