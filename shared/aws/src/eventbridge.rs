//! The announcer on Amazon EventBridge: each announcement becomes one event
//! (source `ripcord`, its detail-type, its JSON as detail) on the
//! deployment's bus, sent with PutEvents in order, ten at a time.
//!
//! PutEvents answers 200 even when entries failed: the failures are only in
//! `FailedEntryCount` and each entry's `ErrorCode`. They become an error
//! here, retryable when every failure is throttling or internal, so no
//! announcement is dropped without anyone knowing.

use crate::error::service_error;
use crate::timestamps::to_sdk;
use async_trait::async_trait;
use aws_sdk_eventbridge::Client;
use aws_sdk_eventbridge::types::{PutEventsRequestEntry, PutEventsResultEntry};
use ripcord::ports::Announcer;
use ripcord::ports::announce::{Announcement, SOURCE};
use ripcord::service_error::{ErrorClass, ServiceError, classify_code};
use ripcord::time::Timestamp;

const SERVICE: &str = "events";
const OPERATION: &str = "PutEvents";

/// PutEvents takes 1 to 10 entries.
pub const MAX_ENTRIES_PER_CALL: usize = 10;
/// PutEvents takes at most 256 KB of entries (as EventBridge counts them).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// `Announcer` over EventBridge, publishing on one bus.
#[derive(Clone, Debug)]
pub struct EventBridgeAnnouncer {
    client: Client,
    bus_name: String,
}

impl EventBridgeAnnouncer {
    pub fn new(client: Client, bus_name: String) -> Self {
        Self { client, bus_name }
    }

    async fn put_batch(&self, batch: &[Entry]) -> Result<(), ServiceError> {
        let output = self
            .client
            .put_events()
            .set_entries(Some(
                batch
                    .iter()
                    .map(|e| {
                        PutEventsRequestEntry::builder()
                            .source(SOURCE)
                            .detail_type(e.detail_type)
                            .detail(&e.detail)
                            .time(to_sdk(e.at))
                            .event_bus_name(&self.bus_name)
                            .build()
                    })
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| service_error(SERVICE, OPERATION, e))?;
        let results = output.entries.unwrap_or_default();
        let failed: Vec<&PutEventsResultEntry> =
            results.iter().filter(|r| r.error_code.is_some()).collect();
        if output.failed_entry_count == 0 && failed.is_empty() {
            return Ok(());
        }
        Err(entries_failed(
            batch.len(),
            output.failed_entry_count,
            &failed,
        ))
    }
}

/// One announcement ready to send.
struct Entry {
    detail_type: &'static str,
    detail: String,
    at: Timestamp,
}

impl Entry {
    /// EventBridge's own count: Time (14 bytes when set), Source,
    /// DetailType and Detail in UTF-8.
    fn size(&self) -> usize {
        14 + SOURCE.len() + self.detail_type.len() + self.detail.len()
    }
}

#[async_trait]
impl Announcer for EventBridgeAnnouncer {
    async fn announce(&self, announcements: &[Announcement]) -> Result<(), ServiceError> {
        let entries = announcements
            .iter()
            .map(entry)
            .collect::<Result<Vec<_>, _>>()?;
        // A failed batch stops the rest, so what is published stays in order.
        for batch in batches(&entries) {
            self.put_batch(batch).await?;
        }
        Ok(())
    }
}

fn entry(announcement: &Announcement) -> Result<Entry, ServiceError> {
    let detail = serde_json::to_string(announcement).map_err(|e| {
        ServiceError::from_code(
            SERVICE,
            OPERATION,
            "InvalidRequest",
            &format!("announcement could not be written as JSON: {e}"),
        )
    })?;
    let at = match announcement {
        Announcement::ExecutionStatusChanged { at, .. }
        | Announcement::WaveStatusChanged { at, .. }
        | Announcement::TriggerRefused { at, .. }
        | Announcement::Cleanup { at, .. }
        | Announcement::EarlierDrillInstances { at, .. }
        | Announcement::WaveStuck { at, .. }
        | Announcement::ExecutionStuck { at, .. } => *at,
        Announcement::OperatorAction { at, .. } => *at,
    };
    let entry = Entry {
        detail_type: announcement.detail_type(),
        detail,
        at,
    };
    if entry.size() > MAX_BATCH_BYTES {
        return Err(ServiceError::from_code(
            SERVICE,
            OPERATION,
            "ValidationException",
            &format!(
                "announcement for execution {} is {} bytes, more than EventBridge's {MAX_BATCH_BYTES}; shorten its reason",
                announcement.execution_id(),
                entry.size()
            ),
        ));
    }
    Ok(entry)
}

/// The entries in order, at most ten and `MAX_BATCH_BYTES` per batch.
fn batches(entries: &[Entry]) -> Vec<&[Entry]> {
    let mut batches = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for (i, entry) in entries.iter().enumerate() {
        let full = i - start == MAX_ENTRIES_PER_CALL || bytes + entry.size() > MAX_BATCH_BYTES;
        if full && i > start {
            batches.push(&entries[start..i]);
            start = i;
            bytes = 0;
        }
        bytes += entry.size();
    }
    if start < entries.len() {
        batches.push(&entries[start..]);
    }
    batches
}

/// One error for the failed entries of a batch: permanent if any failure
/// is, else throttling if any is, else transient. A retry sends the whole
/// batch again, so consumers may see an announcement twice (as EventBridge
/// itself may deliver one twice).
fn entries_failed(
    sent: usize,
    failed_count: i32,
    failed: &[&PutEventsResultEntry],
) -> ServiceError {
    let class_of = |r: &PutEventsResultEntry| {
        let code = r.error_code.as_deref().unwrap_or_default();
        if code.starts_with("Internal") {
            ErrorClass::Transient
        } else {
            classify_code(code)
        }
    };
    let worst = [
        ErrorClass::Permanent,
        ErrorClass::Throttling,
        ErrorClass::Transient,
    ]
    .into_iter()
    .find_map(|class| failed.iter().find(|r| class_of(r) == class));
    let count = usize::try_from(failed_count).unwrap_or(0).max(failed.len());
    let (class, code, detail) = match worst {
        Some(r) => (
            class_of(r),
            r.error_code.clone().unwrap_or_default(),
            r.error_message.clone().unwrap_or_default(),
        ),
        // FailedEntryCount without any entry saying why: nobody knows whether
        // a retry helps, so it is not retried blindly.
        None => (
            ErrorClass::Permanent,
            "PutEventsEntryFailed".to_owned(),
            "no entry carried an error code".to_owned(),
        ),
    };
    ServiceError {
        class,
        ..ServiceError::from_code(
            SERVICE,
            OPERATION,
            &code,
            &format!(
                "{count} of {sent} announcements were not published ({detail}); the batch is sent again on retry"
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(code: &str) -> PutEventsResultEntry {
        PutEventsResultEntry::builder()
            .error_code(code)
            .error_message(format!("{code} happened"))
            .build()
    }

    #[test]
    fn the_worst_entry_failure_decides_the_class() {
        let throttled = failed("ThrottlingException");
        let internal = failed("InternalFailure");
        let malformed = failed("MalformedDetail");
        let e = entries_failed(3, 2, &[&internal, &throttled]);
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Throttling, "ThrottlingException")
        );
        assert!(e.message.starts_with("2 of 3"), "{}", e.message);
        let e = entries_failed(3, 1, &[&internal]);
        assert_eq!(e.class, ErrorClass::Transient);
        let e = entries_failed(3, 2, &[&throttled, &malformed]);
        assert_eq!(
            (e.class, e.code.as_str()),
            (ErrorClass::Permanent, "MalformedDetail")
        );
        let e = entries_failed(3, 1, &[]);
        assert_eq!(e.class, ErrorClass::Permanent);
    }

    #[test]
    fn batches_hold_ten_entries_in_order() {
        let entries: Vec<Entry> = (0..23)
            .map(|i| Entry {
                detail_type: "Ripcord Wave Status Change",
                detail: format!("{{\"n\":{i}}}"),
                at: chrono::Utc::now(),
            })
            .collect();
        let sizes: Vec<usize> = batches(&entries).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [10, 10, 3]);
        let big: Vec<Entry> = (0..3)
            .map(|_| Entry {
                detail_type: "Ripcord Wave Status Change",
                detail: "x".repeat(100_000),
                at: chrono::Utc::now(),
            })
            .collect();
        let sizes: Vec<usize> = batches(&big).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [2, 1]);
    }
}
