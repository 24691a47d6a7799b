//! Where the adapters report how each call to a service they depend on was
//! answered: the SDK clients on AWS, the simulator and the file on the
//! embedded backend. The process keeps the outcomes per service
//! ([`crate::services::calls::ServiceCalls`]) and its workers' heartbeats
//! carry them to `/healthz` (docs/monitoring.md, "Recent outcomes").

pub use crate::recent::CallOutcome;
pub use crate::services::calls::{ProcessCalls, Service, ServiceCalls};
use crate::time::Timestamp;

/// Told of every call an adapter makes. Cheap and never failing: it is
/// called on the path of every call.
pub trait CallObserver: Send + Sync {
    /// `service` answered a call `at` with `outcome`; `error` is the error's
    /// text when it was not a success.
    fn observed(&self, service: Service, outcome: CallOutcome, at: Timestamp, error: Option<&str>);
}
