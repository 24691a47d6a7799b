//! The [`TriggerLog`] contract: the first trigger with an idempotency key
//! decides, and the log lists newest first. Run each suite on an empty log.

use super::store::at;
use ripcord::ids::ExecutionId;
use ripcord::plan::Mode;
use ripcord::ports::TriggerLog;
use ripcord::ports::store::CreateOutcome;
use ripcord::trigger::{TriggerOutcome, TriggerRecord};

fn trigger(key: &str, outcome: TriggerOutcome, received: &str) -> TriggerRecord {
    TriggerRecord {
        idempotency_key: key.to_owned(),
        outcome,
        execution_id: ExecutionId::new_random(),
        reason: (outcome == TriggerOutcome::Refused).then(|| "source not allowed".to_owned()),
        event_id: format!("event-{key}"),
        source: "com.example.runbook".to_owned(),
        account: Some("123456789012".to_owned()),
        requested_by: Some("oncall".to_owned()),
        mode: Some(Mode::Drill),
        plan: Some("payments.yaml".to_owned()),
        received_at: at(received),
    }
}

/// The first trigger with an idempotency key is kept; a second one with the
/// same key writes nothing, whatever it says.
pub async fn first_trigger_with_a_key_wins(log: &dyn TriggerLog) {
    let first = trigger(
        "drill-2025-03",
        TriggerOutcome::Started,
        "2025-03-01T10:00:00Z",
    );
    assert_eq!(
        log.record_trigger(&first).await.expect("record"),
        CreateOutcome::Created
    );
    let second = trigger(
        "drill-2025-03",
        TriggerOutcome::Refused,
        "2025-03-01T10:05:00Z",
    );
    assert_eq!(
        log.record_trigger(&second).await.expect("record again"),
        CreateOutcome::AlreadyExists
    );
    let kept = log
        .load_trigger("drill-2025-03")
        .await
        .expect("load")
        .expect("the trigger is kept");
    assert_eq!(kept, first);
    assert!(log.load_trigger("other").await.expect("load").is_none());
}

/// Triggers list newest first, up to the limit.
pub async fn triggers_list_newest_first(log: &dyn TriggerLog) {
    for (key, time) in [
        ("older", "2025-03-01T09:00:00Z"),
        ("newest", "2025-03-01T11:00:00Z"),
        ("newer", "2025-03-01T10:00:00Z"),
    ] {
        let t = trigger(key, TriggerOutcome::Started, time);
        log.record_trigger(&t).await.expect("record");
    }
    let keys: Vec<String> = log
        .list_triggers(2)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.idempotency_key)
        .collect();
    assert_eq!(keys, vec!["newest", "newer"]);
}
