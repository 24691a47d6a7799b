//! The services a Ripcord process calls, named honestly per backend (AWS'
//! own, or the simulator and the file of the embedded backend), and what a
//! process remembers of its calls to each: the last success, the failing
//! streak since, the last error and the recent counts. Each process keeps
//! one [`ServiceCalls`] per service and reports them with its workers'
//! heartbeats ([`ProcessCalls`]); `/healthz` merges the processes'.

use crate::recent::{CallCounts, CallOutcome, Recent};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A service the engine depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum Service {
    Drs,
    Ec2,
    Ssm,
    Sqs,
    #[serde(rename = "dynamodb")]
    DynamoDb,
    #[serde(rename = "eventbridge")]
    EventBridge,
    #[serde(rename = "cloudwatch")]
    CloudWatch,
    Sts,
    /// The embedded backend's simulator, standing in for DRS.
    SimulatedDrs,
    SimulatedEc2,
    SimulatedSsm,
    /// The embedded backend's SQLite file: its queues and its store.
    File,
}

impl Service {
    pub const ALL: [Service; 12] = [
        Service::Drs,
        Service::Ec2,
        Service::Ssm,
        Service::Sqs,
        Service::DynamoDb,
        Service::EventBridge,
        Service::CloudWatch,
        Service::Sts,
        Service::SimulatedDrs,
        Service::SimulatedEc2,
        Service::SimulatedSsm,
        Service::File,
    ];

    /// The service of an SDK client, by the service id in its operation
    /// metadata (`drs`, `EC2`, `SQS`, `DynamoDB`, ...).
    pub fn from_sdk(service_id: &str) -> Option<Service> {
        Some(match service_id.to_ascii_lowercase().as_str() {
            "drs" => Service::Drs,
            "ec2" => Service::Ec2,
            "ssm" => Service::Ssm,
            "sqs" => Service::Sqs,
            "dynamodb" => Service::DynamoDb,
            "eventbridge" | "events" => Service::EventBridge,
            "cloudwatch" | "monitoring" => Service::CloudWatch,
            "sts" => Service::Sts,
            _ => return None,
        })
    }

    /// The simulator's stand-in for a service a simulated operation belongs
    /// to (`drs`, `ec2`, `ssm`).
    pub fn simulated(service: &str) -> Option<Service> {
        Some(match service {
            "drs" => Service::SimulatedDrs,
            "ec2" => Service::SimulatedEc2,
            "ssm" => Service::SimulatedSsm,
            _ => return None,
        })
    }

    /// The name in a sentence ("DRS", "the simulated DRS").
    pub fn title(self) -> &'static str {
        match self {
            Service::Drs => "DRS",
            Service::Ec2 => "EC2",
            Service::Ssm => "SSM",
            Service::Sqs => "SQS",
            Service::DynamoDb => "DynamoDB",
            Service::EventBridge => "EventBridge",
            Service::CloudWatch => "CloudWatch",
            Service::Sts => "STS",
            Service::SimulatedDrs => "the simulated DRS",
            Service::SimulatedEc2 => "the simulated EC2",
            Service::SimulatedSsm => "the simulated SSM",
            Service::File => "the embedded file (queues and store)",
        }
    }

    /// The label in metrics and alarms (`drs`, `simulated-drs`, `file`).
    pub fn as_str(self) -> &'static str {
        match self {
            Service::Drs => "drs",
            Service::Ec2 => "ec2",
            Service::Ssm => "ssm",
            Service::Sqs => "sqs",
            Service::DynamoDb => "dynamodb",
            Service::EventBridge => "eventbridge",
            Service::CloudWatch => "cloudwatch",
            Service::Sts => "sts",
            Service::SimulatedDrs => "simulated-drs",
            Service::SimulatedEc2 => "simulated-ec2",
            Service::SimulatedSsm => "simulated-ssm",
            Service::File => "file",
        }
    }

    /// Whether executions stop moving without it: launches, polls, actions,
    /// the queues and the store. EventBridge and CloudWatch only carry
    /// announcements and figures out, so their outage degrades.
    pub fn essential(self) -> bool {
        !matches!(
            self,
            Service::EventBridge | Service::CloudWatch | Service::Sts
        )
    }

    /// Whether the simulator stands in for it (its faults are the
    /// scenario's `faults`).
    pub fn is_simulated(self) -> bool {
        matches!(
            self,
            Service::SimulatedDrs | Service::SimulatedEc2 | Service::SimulatedSsm
        )
    }
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest error text kept per service: a heartbeat stays small.
pub const MAX_ERROR_TEXT: usize = 300;

/// What a process remembers of its calls to one service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCalls {
    pub service: Service,
    /// The latest call answered with success.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_success: Option<Timestamp>,
    /// The first failed call (throttled or server error) since the last
    /// success: when the current failing streak began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<Timestamp>,
    /// The latest failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<Timestamp>,
    /// The latest error of any kind, as the adapter put it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default)]
    pub recent: Recent<CallCounts>,
}

impl ServiceCalls {
    pub fn new(service: Service) -> Self {
        Self {
            service,
            last_success: None,
            failing_since: None,
            last_failure: None,
            last_error: None,
            recent: Recent::default(),
        }
    }

    /// Counts one call answered `at` with `outcome` (and `error`'s text
    /// when it failed).
    pub fn record(&mut self, outcome: CallOutcome, at: Timestamp, error: Option<&str>) {
        self.recent.add(at, |c| c.count(outcome));
        match outcome {
            CallOutcome::Succeeded => {
                self.last_success = self.last_success.max(Some(at));
                self.failing_since = None;
            }
            CallOutcome::Throttled | CallOutcome::ServerError => {
                if self.failing_since.is_none() {
                    self.failing_since = Some(at);
                }
                self.last_failure = self.last_failure.max(Some(at));
            }
            CallOutcome::Rejected => {}
        }
        if let Some(error) = error {
            let mut text = error.to_owned();
            if text.len() > MAX_ERROR_TEXT {
                let mut end = MAX_ERROR_TEXT;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
                text.push('…');
            }
            self.last_error = Some(text);
        }
    }

    /// Adds another process' record of the same service: the counts add
    /// up, the latest success and failure win, and the failing streak is
    /// the earliest failure no process has succeeded since.
    pub fn merge(&mut self, other: &ServiceCalls) {
        self.recent.merge(&other.recent);
        self.last_success = self.last_success.max(other.last_success);
        let streak_starts = [self.failing_since, other.failing_since];
        self.failing_since = streak_starts
            .into_iter()
            .flatten()
            .filter(|since| self.last_success.is_none_or(|ok| *since > ok))
            .min();
        if other.last_failure > self.last_failure {
            self.last_failure = other.last_failure;
            if other.last_error.is_some() {
                self.last_error.clone_from(&other.last_error);
            }
        } else if self.last_error.is_none() {
            self.last_error.clone_from(&other.last_error);
        }
    }
}

/// One process' calls, as its workers' heartbeats carry them: every worker
/// of a process reports the same record, so readers take one per process.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessCalls {
    /// Unique per process (and per engine in a process that runs several).
    pub process: String,
    pub services: Vec<ServiceCalls>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use chrono::TimeDelta;

    #[test]
    fn a_failing_streak_starts_at_the_first_failure_after_a_success() {
        let t = testing::t0();
        let mut drs = ServiceCalls::new(Service::Drs);
        drs.record(CallOutcome::Succeeded, t, None);
        drs.record(
            CallOutcome::Rejected,
            t + TimeDelta::seconds(1),
            Some("ValidationException"),
        );
        assert_eq!(
            drs.failing_since, None,
            "a 4xx answer is not a failure of the service"
        );
        drs.record(
            CallOutcome::ServerError,
            t + TimeDelta::seconds(2),
            Some("NetworkError: refused"),
        );
        drs.record(
            CallOutcome::Throttled,
            t + TimeDelta::seconds(3),
            Some("ThrottlingException"),
        );
        assert_eq!(drs.failing_since, Some(t + TimeDelta::seconds(2)));
        assert_eq!(drs.last_failure, Some(t + TimeDelta::seconds(3)));
        assert_eq!(drs.last_error.as_deref(), Some("ThrottlingException"));
        drs.record(CallOutcome::Succeeded, t + TimeDelta::seconds(4), None);
        assert_eq!(drs.failing_since, None);
        assert_eq!(drs.last_success, Some(t + TimeDelta::seconds(4)));
    }

    #[test]
    fn merged_processes_fail_only_since_no_one_succeeded() {
        let t = testing::t0();
        let mut a = ServiceCalls::new(Service::DynamoDb);
        a.record(CallOutcome::Succeeded, t, None);
        a.record(
            CallOutcome::ServerError,
            t + TimeDelta::seconds(10),
            Some("a"),
        );
        let mut b = ServiceCalls::new(Service::DynamoDb);
        b.record(CallOutcome::Succeeded, t + TimeDelta::seconds(20), None);
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(
            merged.failing_since, None,
            "b succeeded after a began failing"
        );
        assert_eq!(merged.last_success, Some(t + TimeDelta::seconds(20)));
        b.record(
            CallOutcome::ServerError,
            t + TimeDelta::seconds(30),
            Some("b"),
        );
        let mut merged = a.clone();
        merged.merge(&b);
        assert_eq!(merged.failing_since, Some(t + TimeDelta::seconds(30)));
        assert_eq!(merged.last_error.as_deref(), Some("b"));
        assert_eq!(merged.recent.minutes().len(), 1);
    }

    #[test]
    fn long_errors_are_cut() {
        let mut ssm = ServiceCalls::new(Service::Ssm);
        let long = "é".repeat(400);
        ssm.record(CallOutcome::Rejected, testing::t0(), Some(&long));
        let kept = ssm.last_error.unwrap();
        assert!(kept.len() <= MAX_ERROR_TEXT + '…'.len_utf8());
        assert!(kept.ends_with('…'));
    }

    #[test]
    fn sdk_service_ids_name_services() {
        assert_eq!(Service::from_sdk("drs"), Some(Service::Drs));
        assert_eq!(Service::from_sdk("DynamoDB"), Some(Service::DynamoDb));
        assert_eq!(Service::from_sdk("EventBridge"), Some(Service::EventBridge));
        assert_eq!(Service::from_sdk("Lambda"), None);
        assert_eq!(Service::simulated("drs"), Some(Service::SimulatedDrs));
        let names: Vec<String> = Service::ALL
            .iter()
            .map(|s| {
                serde_json::to_value(s)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let labels: Vec<&str> = Service::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, labels, "serde names are the metric labels");
    }
}
