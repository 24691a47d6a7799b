//! The DynamoDB adapter beyond the contract, against moto: retention (TTL)
//! on finished executions and their waves, expired items hidden before TTL
//! deletes them, the status index, the item size limit and a missing table.
//!
//! Needs `RIPCORD_TEST_MOTO_URL`; see `ripcord_aws::testing`.

use aws_sdk_dynamodb::types::AttributeValue;
use ripcord::ids::{ExecutionId, WaveNumber};
use ripcord::ports::store::{CreateOutcome, ExecutionQuery, ExecutionStore, StoreError};
use ripcord::records::ExecutionRecord;
use ripcord::status_model::ExecutionStatus;
use ripcord_aws::dynamodb::{ATTR_EXPIRES_AT, RETENTION};
use ripcord_aws::testing::{MotoHandle, moto};
use ripcord_aws::{BootstrapOptions, DynamoStore, ResourceNames, bootstrap};
use ripcord_contract::store::sample_plan;

async fn deployment() -> Option<(MotoHandle, DynamoStore)> {
    let moto = moto().await?;
    bootstrap(&moto.clients, &moto.names, &BootstrapOptions::default())
        .await
        .expect("bootstrap");
    let store = DynamoStore::new(moto.clients.dynamodb.clone(), moto.names.clone());
    Some((moto, store))
}

fn execution(plan: &str, waves: u32) -> (ExecutionRecord, Vec<ripcord::records::WaveRecord>) {
    ExecutionRecord::new(
        ExecutionId::new_random(),
        &sample_plan(plan, waves),
        "tester",
        chrono::Utc::now(),
    )
}

async fn expires_at(moto: &MotoHandle, id: ExecutionId, sk: &str) -> Option<i64> {
    let item = moto
        .clients
        .dynamodb
        .get_item()
        .table_name(moto.names.table())
        .key("pk", AttributeValue::S(format!("EXECUTION#{id}")))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .send()
        .await
        .unwrap()
        .item
        .expect("the item is stored");
    match item.get(ATTR_EXPIRES_AT) {
        Some(AttributeValue::N(n)) => Some(n.parse().unwrap()),
        _ => None,
    }
}

/// A finished execution and all its waves get `expiresAt` 90 days after
/// its end; a running one has none.
#[tokio::test]
async fn finishing_sets_retention_on_the_execution_and_its_waves() {
    let Some((moto, store)) = deployment().await else {
        return;
    };
    let (record, waves) = execution("payments", 3);
    store.create_execution(&record, &waves).await.unwrap();
    let mut running = record.clone();
    running.status = ExecutionStatus::InProgress;
    store.save_execution(&running, 1).await.unwrap();
    assert_eq!(expires_at(&moto, record.id, "EXECUTION").await, None);

    let end = chrono::Utc::now();
    let mut done = running.clone();
    done.status = ExecutionStatus::Completed;
    done.end_time = Some(end);
    assert_eq!(store.save_execution(&done, 2).await.unwrap(), 3);
    let expected = (end + chrono::Duration::from_std(RETENTION).unwrap()).timestamp();
    assert_eq!(
        expires_at(&moto, record.id, "EXECUTION").await,
        Some(expected)
    );
    for n in 1..=3 {
        assert_eq!(
            expires_at(&moto, record.id, &format!("WAVE#{n:04}")).await,
            Some(expected),
            "wave {n}"
        );
    }
    // A later wave save keeps it (saves update, they do not replace).
    let wave = store
        .load_wave(record.id, WaveNumber(2))
        .await
        .unwrap()
        .unwrap();
    store.save_wave(&wave.record, wave.version).await.unwrap();
    assert_eq!(
        expires_at(&moto, record.id, "WAVE#0002").await,
        Some(expected)
    );
    // Still there until then.
    assert!(store.load_execution(record.id).await.unwrap().is_some());
}

/// TTL deletes lazily (moto never does): an execution past its retention
/// is gone for every read, and its id can be created again.
#[tokio::test]
async fn expired_executions_are_hidden_before_ttl_deletes_them() {
    let Some((_moto, store)) = deployment().await else {
        return;
    };
    let (old, old_waves) = execution("last quarter", 2);
    store.create_execution(&old, &old_waves).await.unwrap();
    let mut ended = old.clone();
    ended.status = ExecutionStatus::Failed;
    ended.end_time = Some(chrono::Utc::now() - chrono::Duration::days(91));
    store.save_execution(&ended, 1).await.unwrap();
    let (recent, recent_waves) = execution("this week", 1);
    store
        .create_execution(&recent, &recent_waves)
        .await
        .unwrap();
    let mut recent_failed = recent.clone();
    recent_failed.status = ExecutionStatus::Failed;
    recent_failed.end_time = Some(chrono::Utc::now());
    store.save_execution(&recent_failed, 1).await.unwrap();

    assert!(store.load_execution(old.id).await.unwrap().is_none());
    assert!(
        store
            .load_wave(old.id, WaveNumber(1))
            .await
            .unwrap()
            .is_none()
    );
    assert!(store.load_waves(old.id).await.unwrap().is_empty());
    let listed: Vec<ExecutionId> = store
        .list_executions(&ExecutionQuery::newest(10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(listed, vec![recent.id]);
    let failed: Vec<ExecutionId> = store
        .list_executions(&ExecutionQuery {
            status: Some(ExecutionStatus::Failed),
            limit: 10,
            after: None,
        })
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(failed, vec![recent.id]);

    // The expired item is written over, not reported as existing.
    assert_eq!(
        store.create_execution(&old, &old_waves).await.unwrap(),
        CreateOutcome::Created
    );
    let loaded = store.load_execution(old.id).await.unwrap().unwrap();
    assert_eq!((loaded.version, loaded.record), (1, old));
}

/// The status index lists the executions of one status, newest first.
#[tokio::test]
async fn executions_list_by_status() {
    let Some((_moto, store)) = deployment().await else {
        return;
    };
    let mut ids = Vec::new();
    for (i, status) in [
        ExecutionStatus::InProgress,
        ExecutionStatus::Pending,
        ExecutionStatus::InProgress,
    ]
    .into_iter()
    .enumerate()
    {
        let (mut record, waves) = execution(&format!("plan {i}"), 1);
        record.start_time = chrono::Utc::now() + chrono::Duration::seconds(i as i64);
        record.status = status;
        store.create_execution(&record, &waves).await.unwrap();
        ids.push(record.id);
    }
    let active: Vec<ExecutionId> = store
        .list_executions(&ExecutionQuery {
            status: Some(ExecutionStatus::InProgress),
            limit: 10,
            after: None,
        })
        .await
        .unwrap()
        .items
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(active, vec![ids[2], ids[0]]);
    let pending = store
        .list_executions(&ExecutionQuery {
            status: Some(ExecutionStatus::Pending),
            limit: 10,
            after: None,
        })
        .await
        .unwrap()
        .items;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].plan_name, "plan 1");
}

/// A record over DynamoDB's 400 KB item limit is refused with what to do,
/// and nothing of the execution is written.
#[tokio::test]
async fn an_item_over_400_kb_is_refused() {
    let Some((_moto, store)) = deployment().await else {
        return;
    };
    let mut plan = sample_plan("huge", 2);
    plan.waves[1].post_launch[0]
        .parameters
        .insert("script".to_owned(), vec!["x".repeat(450 * 1024)]);
    let (record, waves) = ExecutionRecord::new(
        ExecutionId::new_random(),
        &plan,
        "tester",
        chrono::Utc::now(),
    );
    let error = store.create_execution(&record, &waves).await.unwrap_err();
    match &error {
        StoreError::TooLarge { what, detail } => {
            assert!(what.contains("wave 2"), "{what}");
            assert!(detail.contains("409600-byte item limit"), "{detail}");
        }
        other => panic!("expected TooLarge, got {other:?}"),
    }
    assert!(store.load_execution(record.id).await.unwrap().is_none());
}

/// A deployment without its table says to run bootstrap.
#[tokio::test]
async fn a_missing_table_says_to_bootstrap() {
    let Some(moto) = moto().await else {
        return;
    };
    let names = ResourceNames::new(format!("{}-absent", moto.names.prefix));
    let store = DynamoStore::new(moto.clients.dynamodb.clone(), names.clone());
    let error = store
        .load_execution(ExecutionId::new_random())
        .await
        .unwrap_err();
    match &error {
        StoreError::Missing { resource, .. } => {
            assert_eq!(resource, &format!("table {}", names.table()))
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(
        error.to_string().contains("ripcord aws bootstrap"),
        "{error}"
    );
}
