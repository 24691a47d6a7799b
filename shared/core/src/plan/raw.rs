//! The plan file as written: serde structs that mirror the YAML one to one,
//! every value wrapped in [`Spanned`] so validation can point at it.
//!
//! Almost every field is optional here, even the required ones: a missing
//! field is then reported by validation together with every other problem,
//! instead of stopping the parse at the first one. Unknown fields still stop
//! the parse (`deny_unknown_fields`), since a misspelt key usually means the
//! rest of the file is not what its author thinks it is.

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

/// A YAML string with where it was written.
pub(super) type Text = Spanned<String>;

#[derive(Debug, Deserialize)]
#[serde(rename = "plan", deny_unknown_fields)]
pub(super) struct RawPlan {
    pub name: Option<Text>,
    pub mode: Option<Text>,
    pub region: Option<Text>,
    pub options: Option<Spanned<RawOptions>>,
    pub defaults: Option<Spanned<RawDefaults>>,
    pub waves: Option<Spanned<Vec<Spanned<RawWave>>>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "options", deny_unknown_fields)]
pub(super) struct RawOptions {
    pub poll_intervals: Option<RawPollIntervals>,
    pub retry: Option<RawRetry>,
    pub execution_timeout: Option<Text>,
    pub rto_target: Option<Text>,
    pub split_large_waves: Option<Spanned<bool>>,
    pub busy_servers: Option<super::model::BusyServers>,
    pub preflight: Option<super::model::PreflightMode>,
    pub max_replication_lag: Option<Text>,
    pub recovery_snapshot: Option<Spanned<RawSnapshotChoice>>,
    pub cleanup: Option<Spanned<RawCleanup>>,
    pub cleanup_previous: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "cleanup", deny_unknown_fields)]
pub(super) struct RawCleanup {
    pub after: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "poll_intervals", deny_unknown_fields)]
pub(super) struct RawPollIntervals {
    pub pending: Option<Text>,
    pub launching: Option<Text>,
    pub post_actions: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "retry", deny_unknown_fields)]
pub(super) struct RawRetry {
    pub max_attempts: Option<Spanned<u32>>,
    pub base_delay: Option<Text>,
    pub max_delay: Option<Text>,
    pub max_poll_errors: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "defaults", deny_unknown_fields)]
pub(super) struct RawDefaults {
    pub launch_timeout: Option<Text>,
    pub health_timeout: Option<Text>,
    pub action_timeout: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "wave", deny_unknown_fields)]
pub(super) struct RawWave {
    pub name: Option<Text>,
    pub servers: Option<Spanned<Vec<Spanned<RawServer>>>>,
    /// Absent: the previous wave. `[]`: no dependency.
    pub depends_on: Option<Spanned<Vec<Text>>>,
    pub wait_for_approval: Option<Spanned<bool>>,
    pub launch_timeout: Option<Text>,
    pub health_timeout: Option<Text>,
    pub post_launch: Option<Vec<Spanned<RawAction>>>,
    pub health_checks: Option<Vec<Spanned<RawHealthCheck>>>,
    pub select: Option<Spanned<RawSelect>>,
    pub recovery_snapshot: Option<Spanned<RawSnapshotChoice>>,
}

/// A wave's `select`: for now only `tags`.
#[derive(Debug, Deserialize)]
#[serde(rename = "select", deny_unknown_fields)]
pub(super) struct RawSelect {
    pub tags: Option<Spanned<BTreeMap<String, RawTagValue>>>,
}

/// A tag's value: DRS' tags are strings, so `tier: 1` means `"1"`.
#[derive(Debug)]
pub(super) struct RawTagValue(pub String);

/// `recovery_snapshot`: a word (`latest`), or `{ before: <time> }`.
#[derive(Debug)]
pub(super) enum RawSnapshotChoice {
    Named(String),
    Before(RawSnapshotBefore),
}

#[derive(Debug, Deserialize)]
#[serde(rename = "recovery_snapshot", deny_unknown_fields)]
pub(super) struct RawSnapshotBefore {
    pub before: Option<Text>,
}

/// A `servers` entry: a plain id, or a mapping with the id and its labels.
#[derive(Debug)]
pub(super) enum RawServer {
    Id(String),
    Detailed(RawServerDetail),
}

#[derive(Debug, Deserialize)]
#[serde(rename = "server", deny_unknown_fields)]
pub(super) struct RawServerDetail {
    pub id: Option<Text>,
    pub hostname: Option<Text>,
    pub critical: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename = "post_launch action", deny_unknown_fields)]
pub(super) struct RawAction {
    pub name: Option<Text>,
    pub document: Option<Text>,
    pub parameters: Option<BTreeMap<String, RawParameterValue>>,
    pub timeout: Option<Text>,
}

/// An SSM parameter value: one string or a list of strings.
#[derive(Debug)]
pub(super) struct RawParameterValue(pub Vec<String>);

/// A `health_checks` entry: a check's name, or `{command: "..."}`.
#[derive(Debug)]
pub(super) enum RawHealthCheck {
    Named(String),
    Command(RawCommandCheck),
}

#[derive(Debug, Deserialize)]
#[serde(rename = "command health check", deny_unknown_fields)]
pub(super) struct RawCommandCheck {
    pub command: Option<Text>,
}

impl<'de> Deserialize<'de> for RawServer {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ServerVisitor;
        impl<'de> Visitor<'de> for ServerVisitor {
            type Value = RawServer;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a source server id or a mapping `{ id: s-..., hostname: ... }`")
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<RawServer, E> {
                Ok(RawServer::Id(id.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawServer, A::Error> {
                RawServerDetail::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawServer::Detailed)
            }
        }
        deserializer.deserialize_any(ServerVisitor)
    }
}

impl<'de> Deserialize<'de> for RawHealthCheck {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct CheckVisitor;
        impl<'de> Visitor<'de> for CheckVisitor {
            type Value = RawHealthCheck;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`ec2_status_ok`, `ssm_agent_online` or `{ command: \"...\" }`")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<RawHealthCheck, E> {
                Ok(RawHealthCheck::Named(name.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawHealthCheck, A::Error> {
                RawCommandCheck::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawHealthCheck::Command)
            }
        }
        deserializer.deserialize_any(CheckVisitor)
    }
}

impl<'de> Deserialize<'de> for RawParameterValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = RawParameterValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawParameterValue, E> {
                Ok(RawParameterValue(vec![v.to_owned()]))
            }
            // SSM parameters are strings; a bare `3600` or `true` means its text.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawParameterValue, E> {
                Ok(RawParameterValue(vec![v.to_string()]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawParameterValue, E> {
                Ok(RawParameterValue(vec![v.to_string()]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawParameterValue, E> {
                Ok(RawParameterValue(vec![v.to_string()]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawParameterValue, E> {
                Ok(RawParameterValue(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<RawParameterValue, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<String>()? {
                    values.push(value);
                }
                Ok(RawParameterValue(values))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl<'de> Deserialize<'de> for RawTagValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor;
        impl<'de> Visitor<'de> for TagVisitor {
            type Value = RawTagValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a tag value (a string)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawTagValue, E> {
                Ok(RawTagValue(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawTagValue, E> {
                Ok(RawTagValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawTagValue, E> {
                Ok(RawTagValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawTagValue, E> {
                Ok(RawTagValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawTagValue, E> {
                Ok(RawTagValue(v.to_string()))
            }
        }
        deserializer.deserialize_any(TagVisitor)
    }
}

impl<'de> Deserialize<'de> for RawSnapshotChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ChoiceVisitor;
        impl<'de> Visitor<'de> for ChoiceVisitor {
            type Value = RawSnapshotChoice;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`latest` or `{ before: \"2026-12-01T06:00:00Z\" }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSnapshotChoice, E> {
                Ok(RawSnapshotChoice::Named(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawSnapshotChoice, A::Error> {
                RawSnapshotBefore::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawSnapshotChoice::Before)
            }
        }
        deserializer.deserialize_any(ChoiceVisitor)
    }
}
