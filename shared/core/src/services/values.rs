//! Enums over the string values an AWS service answers with (EC2's status
//! checks, SSM's agent pings, DRS' job-log events). The core matches on
//! variants instead of comparing strings; the adapters turn the service's
//! string into a variant at the edge. A value this version does not know is
//! kept as `Other` with the service's own spelling, so nothing is lost, and
//! every value is written (JSON of events and records) as that same string.

/// Declares `$name` with one unit variant per known value and
/// `Other(String)`, its wire string both ways (`as_str`, `From<&str>`), and
/// serde as that string.
macro_rules! service_values {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
            /// A value this version of Ripcord does not know, as the service sent it.
            Other(String),
        }

        impl $name {
            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::from(value.as_str())
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                match value {
                    $name::Other(value) => value,
                    known => known.as_str().to_owned(),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use service_values;

#[cfg(test)]
mod tests {
    use crate::services::drs::JobLogEvent;
    use crate::services::ec2::{InstanceCheck, InstanceStatus};
    use crate::services::ssm::{AgentInfo, AgentPing};
    use serde_json::json;

    #[test]
    fn values_are_written_as_the_service_spells_them() {
        let status = InstanceStatus {
            instance_id: "i-1".into(),
            instance_status: InstanceCheck::InsufficientData,
            system_status: InstanceCheck::Ok,
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"instanceId": "i-1", "instanceStatus": "insufficient-data", "systemStatus": "ok"})
        );
        let agent = AgentInfo {
            instance_id: "i-1".into(),
            ping_status: AgentPing::ConnectionLost,
        };
        assert_eq!(
            serde_json::to_value(&agent).unwrap()["pingStatus"],
            "ConnectionLost"
        );
        assert_eq!(
            serde_json::to_value(JobLogEvent::UsingPreviousSnapshotFailed).unwrap(),
            "USING_PREVIOUS_SNAPSHOT_FAILED"
        );
    }

    #[test]
    fn an_unknown_value_is_kept_as_sent() {
        let event: JobLogEvent = serde_json::from_value(json!("WARP_DRIVE_FAILED")).unwrap();
        assert_eq!(event, JobLogEvent::Other("WARP_DRIVE_FAILED".into()));
        assert_eq!(serde_json::to_value(&event).unwrap(), "WARP_DRIVE_FAILED");
        assert_eq!(
            InstanceCheck::from("degraded"),
            InstanceCheck::Other("degraded".into())
        );
        assert_eq!(AgentPing::from("Online"), AgentPing::Online);
    }

    #[test]
    fn failures_are_the_failed_events_known_or_not() {
        for failed in [
            "LAUNCH_FAILED",
            "CONVERSION_FAIL",
            "NETWORK_RECOVERY_FAIL",
            "NEW_STEP_FAILED",
        ] {
            assert!(JobLogEvent::from(failed).is_failure(), "{failed}");
        }
        for fine in [
            "JOB_START",
            "LAUNCH_START",
            "CONVERSION_END",
            "SERVER_SKIPPED",
            "NEW_STEP",
        ] {
            assert!(!JobLogEvent::from(fine).is_failure(), "{fine}");
        }
    }

    #[test]
    fn an_impaired_check_is_neither_ok_nor_pending() {
        let status = |instance: &str, system: &str| InstanceStatus {
            instance_id: "i-1".into(),
            instance_status: instance.into(),
            system_status: system.into(),
        };
        assert!(status("ok", "ok").is_ok());
        assert!(!status("ok", "initializing").is_ok());
        assert!(status("ok", "impaired").is_impaired());
        assert!(!status("initializing", "ok").is_impaired());
    }
}
