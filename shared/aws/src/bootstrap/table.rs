//! The deployment's DynamoDB table: its keys and the indexes the store
//! queries, on-demand billing, TTL on `expiresAt`; created if missing and
//! waited for until ACTIVE.

use super::report::{BootstrapError, BootstrapReport, TABLE_ACTIVE_TIMEOUT, failed, request};
use crate::config::{Clients, ResourceNames};
use crate::dynamodb::{
    ATTR_EXPIRES_AT, ATTR_GSI_KIND, ATTR_PK, ATTR_PLAN_NAME, ATTR_RECEIVED_AT, ATTR_SK,
    ATTR_START_TIME, ATTR_STATUS, INDEX_BY_RECEIVED, INDEX_BY_START, INDEX_BY_STATUS,
};
use crate::error::service_error;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use std::time::Duration;

/// One global secondary index as bootstrap creates it (the CloudFormation
/// template, `infra/ripcord.yaml`, is checked against these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexLayout {
    pub name: &'static str,
    pub hash_key: &'static str,
    pub range_key: &'static str,
    /// The non-key attributes projected; None: all of them.
    pub projected: Option<&'static [&'static str]>,
}

/// The table's key: hash, range.
pub const TABLE_KEY: [&str; 2] = [ATTR_PK, ATTR_SK];
/// Every key attribute of the table and its indexes (all strings).
pub const KEY_ATTRIBUTES: [&str; 6] = [
    ATTR_PK,
    ATTR_SK,
    ATTR_GSI_KIND,
    ATTR_START_TIME,
    ATTR_STATUS,
    ATTR_RECEIVED_AT,
];
/// DynamoDB's TTL attribute.
pub const TTL_ATTRIBUTE: &str = ATTR_EXPIRES_AT;
/// Sparse indexes: only items carrying both key attributes are in them.
/// Listings need only the projected columns, so body updates do not
/// rewrite the index entries.
pub const INDEXES: [IndexLayout; 3] = [
    IndexLayout {
        name: INDEX_BY_START,
        hash_key: ATTR_GSI_KIND,
        range_key: ATTR_START_TIME,
        projected: Some(&[ATTR_PLAN_NAME, ATTR_STATUS, ATTR_EXPIRES_AT]),
    },
    IndexLayout {
        name: INDEX_BY_STATUS,
        hash_key: ATTR_STATUS,
        range_key: ATTR_START_TIME,
        projected: Some(&[ATTR_PLAN_NAME, ATTR_EXPIRES_AT]),
    },
    IndexLayout {
        name: INDEX_BY_RECEIVED,
        hash_key: ATTR_GSI_KIND,
        range_key: ATTR_RECEIVED_AT,
        projected: None,
    },
];

fn attribute(name: &str) -> Result<AttributeDefinition, BootstrapError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
        .map_err(request)
}

fn key(name: &str, key_type: KeyType) -> Result<KeySchemaElement, BootstrapError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()
        .map_err(request)
}

fn index(layout: &IndexLayout) -> Result<GlobalSecondaryIndex, BootstrapError> {
    let projection = match layout.projected {
        Some(attributes) => Projection::builder()
            .projection_type(ProjectionType::Include)
            .set_non_key_attributes(Some(attributes.iter().map(|a| a.to_string()).collect()))
            .build(),
        None => Projection::builder()
            .projection_type(ProjectionType::All)
            .build(),
    };
    GlobalSecondaryIndex::builder()
        .index_name(layout.name)
        .key_schema(key(layout.hash_key, KeyType::Hash)?)
        .key_schema(key(layout.range_key, KeyType::Range)?)
        .projection(projection)
        .build()
        .map_err(request)
}

pub(super) async fn table(
    clients: &Clients,
    names: &ResourceNames,
    report: &mut BootstrapReport,
) -> Result<(), BootstrapError> {
    let table = names.table();
    let resource = format!("table {table}");
    let fail = failed(&resource);
    let described = clients
        .dynamodb
        .describe_table()
        .table_name(&table)
        .send()
        .await;
    let existing = match described {
        Ok(out) => out.table,
        Err(e) => {
            let e = service_error("dynamodb", "DescribeTable", e);
            if e.code != "ResourceNotFoundException" {
                return Err(fail(e));
            }
            None
        }
    };
    match existing {
        Some(description) => {
            let have: Vec<&str> = description
                .global_secondary_indexes()
                .iter()
                .filter_map(|i| i.index_name())
                .collect();
            let missing: Vec<String> = INDEXES
                .iter()
                .filter(|i| !have.contains(&i.name))
                .map(|i| i.name.to_owned())
                .collect();
            if !missing.is_empty() {
                return Err(BootstrapError::TableMismatch { table, missing });
            }
            report.note(false, resource.clone());
        }
        None => {
            let attributes: Result<Vec<_>, _> =
                KEY_ATTRIBUTES.iter().map(|a| attribute(a)).collect();
            let indexes: Result<Vec<_>, _> = INDEXES.iter().map(index).collect();
            clients
                .dynamodb
                .create_table()
                .table_name(&table)
                .billing_mode(BillingMode::PayPerRequest)
                .set_attribute_definitions(Some(attributes?))
                .key_schema(key(TABLE_KEY[0], KeyType::Hash)?)
                .key_schema(key(TABLE_KEY[1], KeyType::Range)?)
                .set_global_secondary_indexes(Some(indexes?))
                .send()
                .await
                .map_err(|e| fail(service_error("dynamodb", "CreateTable", e)))?;
            report.note(true, resource.clone());
        }
    }
    wait_until_active(clients, &table, &resource).await?;

    let ttl = clients
        .dynamodb
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .map_err(|e| fail(service_error("dynamodb", "DescribeTimeToLive", e)))?;
    let enabled = ttl.time_to_live_description().is_some_and(|d| {
        matches!(
            d.time_to_live_status(),
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) && d.attribute_name() == Some(TTL_ATTRIBUTE)
    });
    let ttl_resource = format!("TTL on {table}.{TTL_ATTRIBUTE}");
    if !enabled {
        clients
            .dynamodb
            .update_time_to_live()
            .table_name(&table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .enabled(true)
                    .attribute_name(TTL_ATTRIBUTE)
                    .build()
                    .map_err(request)?,
            )
            .send()
            .await
            .map_err(|e| failed(&ttl_resource)(service_error("dynamodb", "UpdateTimeToLive", e)))?;
    }
    report.note(!enabled, ttl_resource);
    Ok(())
}

async fn wait_until_active(
    clients: &Clients,
    table: &str,
    resource: &str,
) -> Result<(), BootstrapError> {
    let deadline = tokio::time::Instant::now() + TABLE_ACTIVE_TIMEOUT;
    loop {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| failed(resource)(service_error("dynamodb", "DescribeTable", e)))?;
        let status = out.table().and_then(|t| t.table_status()).cloned();
        if status == Some(TableStatus::Active) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(BootstrapError::TableNotActive {
                table: table.to_owned(),
                status: status.map_or("unknown".to_owned(), |s| s.as_str().to_owned()),
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}
