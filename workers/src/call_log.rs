//! This process' record of its calls to the services it depends on
//! (docs/monitoring.md, "Recent outcomes"): the adapters tell it how each
//! call was answered (the SDK clients' interceptor on AWS, the simulator on
//! the embedded backend), and each worker's heartbeat carries a copy to the
//! store, where `ripcord serve` merges the processes' for `/healthz`,
//! `/metrics` and the health gauges. Bounded: one record per service, each
//! with a quarter hour of per-minute counts.
//!
//! The embedded file has no client to observe; its queue receives and
//! heartbeat writes, which every worker makes at each poll, are counted by
//! the worker loop instead ([`CallLog::port_call`]).

use std::fmt::Display;

use ripcord::ports::calls::{CallObserver, CallOutcome, ProcessCalls, Service, ServiceCalls};
use ripcord::time::Timestamp;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The calls of one process (one per engine: tests run several in one
/// process, each with its own name).
pub struct CallLog {
    process: String,
    services: Mutex<BTreeMap<Service, ServiceCalls>>,
    /// The service behind the queue and the store, when no adapter
    /// observes its calls (the embedded file).
    ports_service: Option<Service>,
}

impl Default for CallLog {
    fn default() -> Self {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let n = MADE.fetch_add(1, Ordering::Relaxed);
        Self {
            process: format!(
                "{}:{}:{}:{n}",
                host_name(),
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            ),
            services: Mutex::new(BTreeMap::new()),
            ports_service: None,
        }
    }
}

/// This host's name, for the names of workers and processes.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

impl CallLog {
    /// A log that also counts the worker loop's receives and heartbeat
    /// writes as calls to `service` (the embedded file).
    pub fn with_ports_service(service: Service) -> Self {
        Self {
            ports_service: Some(service),
            ..Self::default()
        }
    }

    /// A receive or a heartbeat write the worker loop made, counted against
    /// the queue and store's service if no adapter observes it.
    pub fn port_call<T, E: Display>(&self, result: &Result<T, E>) {
        let Some(service) = self.ports_service else {
            return;
        };
        let now = chrono::Utc::now();
        match result {
            Ok(_) => self.observed(service, CallOutcome::Succeeded, now, None),
            Err(e) => self.observed(service, CallOutcome::ServerError, now, Some(&e.to_string())),
        }
    }

    /// What the heartbeats carry; none before the first call.
    pub fn snapshot(&self) -> Option<ProcessCalls> {
        let services = self.services.lock().unwrap_or_else(|p| p.into_inner());
        (!services.is_empty()).then(|| ProcessCalls {
            process: self.process.clone(),
            services: services.values().cloned().collect(),
        })
    }
}

impl CallObserver for CallLog {
    fn observed(&self, service: Service, outcome: CallOutcome, at: Timestamp, error: Option<&str>) {
        self.services
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(service)
            .or_insert_with(|| ServiceCalls::new(service))
            .record(outcome, at, error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_kept_per_service_under_one_process_name() {
        let log = CallLog::default();
        assert_eq!(log.snapshot(), None);
        let now = chrono::Utc::now();
        log.observed(Service::Sqs, CallOutcome::Succeeded, now, None);
        log.observed(
            Service::Drs,
            CallOutcome::Throttled,
            now,
            Some("ThrottlingException"),
        );
        log.observed(Service::Drs, CallOutcome::Succeeded, now, None);
        let snapshot = log.snapshot().unwrap();
        assert_ne!(snapshot.process, CallLog::default().process);
        let services: Vec<Service> = snapshot.services.iter().map(|s| s.service).collect();
        assert_eq!(services, [Service::Drs, Service::Sqs]);
        let drs = &snapshot.services[0];
        assert_eq!(
            drs.recent
                .within(now, std::time::Duration::from_secs(60))
                .total(),
            2
        );
        assert_eq!(drs.last_success, Some(now));
    }
}
