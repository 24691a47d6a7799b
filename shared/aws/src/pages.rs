//! Every page of a DRS listing, with a throttled or failed later page
//! asked again in place. A plan of hundreds of servers is read in dozens
//! of pages; in a busy account, where DRS throttles a share of calls, a
//! read that fails whole on any throttled page almost never gets through
//! (at 25 %, 36 pages succeed together 0.003 % of the time), and its
//! caller's retry would start it over from the first page. So a page after
//! the first that DRS throttles or answers with a 5xx is asked again, as
//! `ServiceError::read_again_after` says (up to 4 tries in all, after DRS'
//! Retry-After or 200 ms doubling, at most 2 s). A failed first page, and every error a
//! retry cannot help, is the caller's (nothing is lost yet; pre-flight
//! reads again, `workers/src/read_again.rs`, the state machine backs off).
//! Reads only: StartRecovery is never asked again here.

use crate::error::service_error;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use ripcord::service_error::ServiceError;
use std::future::Future;

/// Reads every page of `service`'s listing `operation`: `send(token)` asks
/// for the page after `token` (`None`: the first), `take(page)` keeps its
/// items and answers the next token (`None` or empty: the last page).
pub async fn every_page<P, E, Fut>(
    service: &str,
    operation: &str,
    mut send: impl FnMut(Option<String>) -> Fut,
    mut take: impl FnMut(P) -> Result<Option<String>, ServiceError>,
) -> Result<(), ServiceError>
where
    Fut: Future<Output = Result<P, SdkError<E, HttpResponse>>>,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let mut token: Option<String> = None;
    let mut first = true;
    loop {
        let mut tries = 1;
        let page = loop {
            match send(token.clone()).await {
                Ok(page) => break page,
                Err(e) => {
                    let e = service_error(service, operation, e);
                    let Some(wait) = e.read_again_after(tries).filter(|_| !first) else {
                        return Err(e);
                    };
                    tracing::debug!(
                        operation,
                        tries,
                        "a later page was throttled or failed; asking for it again"
                    );
                    tokio::time::sleep(wait).await;
                    tries += 1;
                }
            }
        };
        first = false;
        token = take(page)?.filter(|t| !t.is_empty());
        if token.is_none() {
            return Ok(());
        }
    }
}
