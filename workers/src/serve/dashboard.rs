//! The dashboard: static files built into the binary (`workers/assets/
//! dashboard/`: plain JavaScript modules and CSS, no build step, nothing
//! from the network). `/` and `/executions/{id}` answer the page, which
//! routes on its path; `/assets/<file>` the files.

use super::error::ApiError;
use super::headers::DASHBOARD_CSP;
use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

macro_rules! assets {
    ($($name:literal),* $(,)?) => {
        /// Every file of the dashboard: name and contents.
        pub const ASSETS: &[(&str, &str)] = &[
            $(($name, include_str!(concat!("../../assets/dashboard/", $name)))),*
        ];
    };
}

assets!(
    "index.html",
    "app.css",
    "app.js",
    "capacity.js",
    "cleanup.js",
    "api.js",
    "dialog.js",
    "dom.js",
    "execution.js",
    "format.js",
    "gantt.js",
    "list.js",
    "live.js",
    "operator.js",
    "preflight.js",
    "servers.js",
    "toast.js",
    "waves.js",
);

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn asset(name: &str) -> Option<Response> {
    ASSETS.iter().find(|(n, _)| *n == name).map(|(n, body)| {
        (
            [
                (header::CONTENT_TYPE, content_type(n)),
                // The files change with the binary: revalidate each load.
                (header::CACHE_CONTROL, "no-cache"),
                (header::CONTENT_SECURITY_POLICY, DASHBOARD_CSP),
            ],
            *body,
        )
            .into_response()
    })
}

async fn page() -> Response {
    asset("index.html").expect("index.html is built in")
}

async fn file(Path(name): Path<String>) -> Result<Response, ApiError> {
    asset(&name).ok_or_else(|| ApiError::not_found(format!("the dashboard has no file `{name}`")))
}

/// The dashboard's routes.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(page))
        .route("/executions/{id}", get(page))
        .route("/assets/{name}", get(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_in_the_directory_is_built_in_and_every_import_resolves() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/dashboard");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut built: Vec<String> = ASSETS.iter().map(|(n, _)| n.to_string()).collect();
        built.sort();
        assert_eq!(built, on_disk, "add new dashboard files to assets!()");
        for (name, body) in ASSETS {
            for import in body.split("from './").skip(1) {
                let target = import.split('\'').next().unwrap();
                assert!(
                    ASSETS.iter().any(|(n, _)| *n == target),
                    "{name} imports {target}, which is not built in"
                );
            }
        }
    }
}
