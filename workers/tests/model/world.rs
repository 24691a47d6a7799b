//! A model of the AWS world the workers talk to, in plain synchronous Rust:
//! DRS jobs whose servers launch, fail or hang by time, the recovery and EC2
//! instances of the servers that launched, and SSM commands whose
//! invocations succeed or fail per server. `ports.rs` puts it behind the
//! DRS, EC2 and SSM ports the real step calls; the property tests ask it
//! what really happened, to hold the records the step saved against it.

use ripcord::ids::SourceServerId;
use ripcord::machine::HEALTH_DOCUMENT;
use ripcord::ports::drs::{
    DrsLaunchStatus, JobLogEvent, JobLogItem, JobStatus, ParticipatingServer, RecoveryInstance,
    RecoveryJob, SourceServer, StartRecoveryRequest, TAG_ATTEMPT, TAG_EXECUTION, TAG_WAVE,
};
use ripcord::ports::ec2::{Ec2Instance, InstanceCheck, InstanceStatus};
use ripcord::ports::ssm::{
    AgentInfo, AgentPing, CommandInvocation, InvocationStatus, SendCommandRequest, SentCommand,
};
use ripcord::service_error::ServiceError;
use ripcord::time::{Timestamp, after};
use std::collections::BTreeMap;
use std::time::Duration;

/// A job's servers stay PENDING this long before they start launching.
const PENDING_FOR: Duration = Duration::from_secs(5);

/// An SSM command invocation runs this long before it ends.
const COMMAND_RUNS_FOR: Duration = Duration::from_secs(20);

/// What DRS does with one server once a job includes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaunchOutcome {
    /// LAUNCHED this many seconds after the job was created.
    Launches { after_secs: u64 },
    /// FAILED (with a LAUNCH_FAILED log item) after this many seconds, in
    /// the first job that includes it; a later job (an operator's retry)
    /// launches it after as long.
    Fails { after_secs: u64 },
    /// Stays PENDING; the job ends (COMPLETED) without it after this many
    /// seconds, logging CONVERSION_FAIL: a COMPLETED job with a server that never launched (invariant 1).
    Dropped { after_secs: u64 },
    /// IN_PROGRESS forever; the job never ends.
    Stuck,
}

/// One source server as the world treats it.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub id: SourceServerId,
    pub outcome: LaunchOutcome,
    /// Its SSM agent reports Online once it launched.
    pub agent_online: bool,
    /// Post-launch action invocations on it succeed.
    pub action_ok: bool,
    /// Health command invocations on it succeed.
    pub health_ok: bool,
}

#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub index: usize,
    pub tags: BTreeMap<String, String>,
    pub created: Timestamp,
    pub servers: Vec<SourceServerId>,
}

#[derive(Clone, Debug)]
pub struct Command {
    pub id: String,
    pub comment: String,
    pub document: String,
    pub instance_ids: Vec<String>,
    pub sent_at: Timestamp,
}

/// Where one server stands in one job at an instant.
struct Participation {
    status: DrsLaunchStatus,
    /// The job is done with this server (launched, failed or dropped).
    settled: bool,
}

#[derive(Clone, Debug, Default)]
pub struct World {
    pub servers: BTreeMap<SourceServerId, ServerSpec>,
    pub jobs: Vec<Job>,
    pub commands: Vec<Command>,
    /// Recovery instances a drill clean-up asked to terminate, and when
    /// each is gone (the TERMINATE job takes [`TERMINATE_TAKES`]).
    pub terminated: BTreeMap<String, Timestamp>,
    /// Servers whose recovery instance DRS now shows under another job (a
    /// later drill took it over): a clean-up must leave it alone.
    pub taken_over: Vec<SourceServerId>,
    /// TerminateRecoveryInstances calls, by their job id.
    pub terminate_jobs: Vec<(String, Timestamp)>,
    /// Instances earlier launches left running: earlier drills' (which
    /// `options.cleanup_previous` may terminate) and a real recovery's
    /// (which nothing may).
    pub leftovers: Vec<RecoveryInstance>,
    /// Whether the plan has `options.cleanup_previous`.
    pub cleanup_previous: bool,
}

/// How long the model's TERMINATE job takes.
pub const TERMINATE_TAKES: Duration = Duration::from_secs(30);

/// The job DRS names for an instance a later drill took over.
pub const ANOTHER_DRILL: &str = "drsjob-another-drill";

fn secs_since(from: Timestamp, now: Timestamp) -> Duration {
    ripcord::time::between(from, now)
}

impl World {
    pub fn new(servers: impl IntoIterator<Item = ServerSpec>) -> Self {
        Self {
            servers: servers.into_iter().map(|s| (s.id.clone(), s)).collect(),
            ..Self::default()
        }
    }

    fn spec(&self, id: &SourceServerId) -> &ServerSpec {
        self.servers
            .get(id)
            .unwrap_or_else(|| panic!("model: server {id} is not in the world"))
    }

    /// What `job` does with server `id`: its outcome, but a server that
    /// failed in an earlier job launches in a later one.
    fn outcome_in(&self, job: &Job, id: &SourceServerId) -> LaunchOutcome {
        let relaunched = self.jobs[..job.index]
            .iter()
            .any(|j| j.servers.contains(id));
        match self.spec(id).outcome {
            LaunchOutcome::Fails { after_secs } if relaunched => {
                LaunchOutcome::Launches { after_secs }
            }
            outcome => outcome,
        }
    }

    fn participation(&self, job: &Job, id: &SourceServerId, now: Timestamp) -> Participation {
        let elapsed = secs_since(job.created, now);
        let pending = elapsed < PENDING_FOR;
        let (status, settled) = match self.outcome_in(job, id) {
            LaunchOutcome::Launches { after_secs } if elapsed >= secs(after_secs) => {
                (DrsLaunchStatus::Launched, true)
            }
            LaunchOutcome::Fails { after_secs } if elapsed >= secs(after_secs) => {
                (DrsLaunchStatus::Failed, true)
            }
            LaunchOutcome::Dropped { after_secs } => {
                (DrsLaunchStatus::Pending, elapsed >= secs(after_secs))
            }
            _ if pending => (DrsLaunchStatus::Pending, false),
            _ => (DrsLaunchStatus::InProgress, false),
        };
        Participation { status, settled }
    }

    fn recovery_instance_id(job: &Job, id: &SourceServerId) -> String {
        format!("ri-{:04}-{}", job.index, &id.as_str()[2..])
    }

    fn ec2_instance_id(job: &Job, id: &SourceServerId) -> String {
        format!("i-{:04}{}", job.index, &id.as_str()[2..])
    }

    fn job_view(&self, job: &Job, now: Timestamp) -> RecoveryJob {
        let parts: Vec<(ParticipatingServer, bool)> = job
            .servers
            .iter()
            .map(|id| {
                let p = self.participation(job, id, now);
                let ri = (p.status == DrsLaunchStatus::Launched)
                    .then(|| Self::recovery_instance_id(job, id));
                (
                    ParticipatingServer {
                        source_server_id: id.clone(),
                        recovery_instance_id: ri,
                        launch_status: p.status,
                    },
                    p.settled,
                )
            })
            .collect();
        let status = if parts.iter().all(|(_, settled)| *settled) {
            JobStatus::Completed
        } else if parts
            .iter()
            .any(|(p, _)| p.launch_status != DrsLaunchStatus::Pending)
        {
            JobStatus::Started
        } else {
            JobStatus::Pending
        };
        RecoveryJob {
            job_id: job.id.clone(),
            status,
            creation_time: Some(job.created),
            end_time: (status == JobStatus::Completed).then_some(now),
            participating_servers: parts.into_iter().map(|(p, _)| p).collect(),
            tags: job.tags.clone(),
        }
    }

    // ---- DRS ----

    /// DescribeSourceServers: every server of the world replicates.
    pub fn source_servers(&self, ids: &[SourceServerId]) -> Vec<SourceServer> {
        ids.iter()
            .filter(|id| self.servers.contains_key(*id))
            .map(|id| SourceServer {
                source_server_id: id.clone(),
                hostname: None,
                data_replication_state: "CONTINUOUS".to_owned(),
                lag_duration: None,
                tags: BTreeMap::new(),
                recovery_instance_id: None,
                last_launch_result: None,
            })
            .collect()
    }

    /// DescribeSourceServers without a filter: every server of the world.
    pub fn all_source_servers(&self) -> Vec<SourceServer> {
        let ids: Vec<SourceServerId> = self.servers.keys().cloned().collect();
        self.source_servers(&ids)
    }

    /// DescribeRecoveryInstances by source server: the launched instances
    /// of these servers.
    pub fn recovery_instances_of(
        &self,
        servers: &[SourceServerId],
        now: Timestamp,
    ) -> Vec<RecoveryInstance> {
        let left = self
            .leftovers
            .iter()
            .filter(|l| servers.contains(&l.source_server_id))
            .map(|l| l.recovery_instance_id.clone());
        let ids: Vec<String> = self
            .jobs
            .iter()
            .flat_map(|job| {
                job.servers
                    .iter()
                    .filter(|id| servers.contains(id))
                    .map(|id| Self::recovery_instance_id(job, id))
            })
            .chain(left)
            .collect();
        self.describe_recovery_instances(&ids, now)
    }

    /// TerminateRecoveryInstances: each instance is gone
    /// [`TERMINATE_TAKES`] later. An id DRS does not have (never launched,
    /// or gone) fails the whole call, as in DRS. Invariant 14: every id
    /// must be one this execution's own job launched and DRS still shows
    /// under that job.
    pub fn terminate(&mut self, ids: &[String], now: Timestamp) -> Result<String, ServiceError> {
        let live = self.describe_recovery_instances(ids, now);
        for id in ids {
            let Some(ri) = live.iter().find(|ri| ri.recovery_instance_id == *id) else {
                return Err(ServiceError::from_code(
                    "drs",
                    "TerminateRecoveryInstances",
                    "ResourceNotFoundException",
                    &format!("model: no recovery instance {id}"),
                ));
            };
            if self.leftovers.contains(ri) {
                assert!(
                    ri.is_drill && self.cleanup_previous,
                    "invariant 14 broken: TerminateRecoveryInstances of {id}, {} an earlier launch left{}",
                    if ri.is_drill {
                        "a drill instance"
                    } else {
                        "a real recovery's instance"
                    },
                    if self.cleanup_previous {
                        ""
                    } else {
                        ", without options.cleanup_previous"
                    }
                );
                continue;
            }
            assert!(
                ri.job_id.as_deref() != Some(ANOTHER_DRILL)
                    && self.jobs.iter().any(|j| Some(&j.id) == ri.job_id.as_ref()),
                "invariant 14 broken: TerminateRecoveryInstances of {id}, which DRS shows under job {:?}, not one this execution launched",
                ri.job_id
            );
        }
        let gone = after(now, TERMINATE_TAKES);
        for id in ids {
            let at = self.terminated.entry(id.clone()).or_insert(gone);
            *at = (*at).min(gone);
        }
        let job_id = format!("drsjob-terminate-{:04}", self.terminate_jobs.len());
        self.terminate_jobs.push((job_id.clone(), gone));
        Ok(job_id)
    }

    /// Whether the recovery instance is gone by `now`.
    pub fn is_terminated(&self, id: &str, now: Timestamp) -> bool {
        self.terminated.get(id).is_some_and(|at| *at <= now)
    }

    pub fn start_recovery(
        &mut self,
        request: &StartRecoveryRequest,
        now: Timestamp,
    ) -> RecoveryJob {
        let index = self.jobs.len();
        let job = Job {
            id: format!("drsjob-{index:017x}"),
            index,
            tags: request.tags.clone(),
            created: now,
            servers: request.source_servers.clone(),
        };
        self.jobs.push(job.clone());
        self.job_view(&job, now)
    }

    pub fn find_jobs_by_tags(
        &self,
        tags: &BTreeMap<String, String>,
        since: Timestamp,
        now: Timestamp,
    ) -> Vec<RecoveryJob> {
        self.jobs
            .iter()
            .filter(|j| j.created >= since && tags.iter().all(|(k, v)| j.tags.get(k) == Some(v)))
            .map(|j| self.job_view(j, now))
            .collect()
    }

    pub fn describe_job(&self, job_id: &str, now: Timestamp) -> Option<RecoveryJob> {
        if let Some((_, gone)) = self.terminate_jobs.iter().find(|(id, _)| id == job_id) {
            let done = *gone <= now;
            return Some(RecoveryJob {
                job_id: job_id.to_owned(),
                status: if done {
                    JobStatus::Completed
                } else {
                    JobStatus::Started
                },
                creation_time: None,
                end_time: done.then_some(*gone),
                participating_servers: Vec::new(),
                tags: BTreeMap::new(),
            });
        }
        self.jobs
            .iter()
            .find(|j| j.id == job_id)
            .map(|j| self.job_view(j, now))
    }

    pub fn job_log(&self, job_id: &str, now: Timestamp) -> Vec<JobLogItem> {
        let Some(job) = self.jobs.iter().find(|j| j.id == job_id) else {
            return Vec::new();
        };
        job.servers
            .iter()
            .filter_map(|id| {
                let p = self.participation(job, id, now);
                let event = match (self.outcome_in(job, id), p.settled) {
                    (LaunchOutcome::Fails { .. }, true) => JobLogEvent::LaunchFailed,
                    (LaunchOutcome::Dropped { .. }, true) => JobLogEvent::ConversionFail,
                    _ => return None,
                };
                Some(JobLogItem {
                    raw_error: Some(format!("model: {event} for {id}")),
                    event,
                    event_time: Some(now),
                    source_server_id: Some(id.clone()),
                    target_instance_id: None,
                })
            })
            .collect()
    }

    pub fn describe_recovery_instances(
        &self,
        ids: &[String],
        now: Timestamp,
    ) -> Vec<RecoveryInstance> {
        let mut out: Vec<RecoveryInstance> = self
            .leftovers
            .iter()
            .filter(|l| ids.contains(&l.recovery_instance_id))
            .filter(|l| !self.is_terminated(&l.recovery_instance_id, now))
            .cloned()
            .collect();
        for job in &self.jobs {
            for id in &job.servers {
                let ri = Self::recovery_instance_id(job, id);
                if ids.contains(&ri)
                    && self.participation(job, id, now).status == DrsLaunchStatus::Launched
                    && !self.is_terminated(&ri, now)
                {
                    let job_id = if self.taken_over.contains(id) {
                        ANOTHER_DRILL.to_owned()
                    } else {
                        job.id.clone()
                    };
                    out.push(RecoveryInstance {
                        recovery_instance_id: ri,
                        ec2_instance_id: Some(Self::ec2_instance_id(job, id)),
                        ec2_instance_state: Some("running".to_owned()),
                        job_id: Some(job_id),
                        source_server_id: id.clone(),
                        is_drill: true,
                        point_in_time_snapshot: None,
                    });
                }
            }
        }
        out
    }

    /// Every EC2 instance a launch created by `now`: instance id → server.
    fn instances(&self, now: Timestamp) -> BTreeMap<String, SourceServerId> {
        let mut out = BTreeMap::new();
        for job in &self.jobs {
            for id in &job.servers {
                if self.participation(job, id, now).status == DrsLaunchStatus::Launched {
                    out.insert(Self::ec2_instance_id(job, id), id.clone());
                }
            }
        }
        out
    }

    /// The EC2 instance `id`'s latest launch produced by `now`, if it
    /// launched (a retry launches a server whose launch Ripcord saw fail,
    /// say after polls failed, again; instance ids sort by job).
    pub fn launched_instance(&self, id: &SourceServerId, now: Timestamp) -> Option<String> {
        self.instances(now)
            .into_iter()
            .filter(|(_, s)| s == id)
            .map(|(i, _)| i)
            .next_back()
    }

    /// How many jobs carry the tags of this (execution, wave, attempt).
    pub fn jobs_for(&self, execution: &str, wave: &str, attempt: &str) -> usize {
        self.jobs
            .iter()
            .filter(|j| {
                j.tags.get(TAG_EXECUTION).map(String::as_str) == Some(execution)
                    && j.tags.get(TAG_WAVE).map(String::as_str) == Some(wave)
                    && j.tags.get(TAG_ATTEMPT).map(String::as_str) == Some(attempt)
            })
            .count()
    }

    /// The most jobs any one (execution, wave, attempt) holds (invariant 2).
    pub fn most_jobs_per_attempt(&self) -> usize {
        let mut counts: BTreeMap<[Option<&String>; 3], usize> = BTreeMap::new();
        for j in &self.jobs {
            let key = [TAG_EXECUTION, TAG_WAVE, TAG_ATTEMPT].map(|t| j.tags.get(t));
            *counts.entry(key).or_default() += 1;
        }
        counts.values().copied().max().unwrap_or(0)
    }

    // ---- EC2 ----

    pub fn describe_instances(&self, ids: &[String], now: Timestamp) -> Vec<Ec2Instance> {
        self.instances(now)
            .into_keys()
            .filter(|i| ids.contains(i))
            .map(|instance_id| Ec2Instance {
                instance_id,
                instance_type: "m5.large".to_owned(),
                state: "running".to_owned(),
                private_ip_address: Some("10.0.0.10".to_owned()),
                public_ip_address: None,
                availability_zone: Some("us-east-1a".to_owned()),
                launch_time: Some(now),
            })
            .collect()
    }

    pub fn describe_instance_status(&self, ids: &[String], now: Timestamp) -> Vec<InstanceStatus> {
        self.instances(now)
            .into_keys()
            .filter(|i| ids.contains(i))
            .map(|instance_id| InstanceStatus {
                instance_id,
                instance_status: InstanceCheck::Ok,
                system_status: InstanceCheck::Ok,
            })
            .collect()
    }

    // ---- SSM ----

    pub fn send_command(&mut self, request: &SendCommandRequest, now: Timestamp) -> SentCommand {
        let id = format!("cmd-{:04}", self.commands.len());
        self.commands.push(Command {
            id: id.clone(),
            comment: request.comment.clone(),
            document: request.document_name.clone(),
            instance_ids: request.instance_ids.clone(),
            sent_at: now,
        });
        SentCommand {
            command_id: id,
            comment: request.comment.clone(),
            instance_ids: request.instance_ids.clone(),
            requested_at: Some(now),
        }
    }

    pub fn find_commands(&self, comment: &str, since: Timestamp) -> Vec<SentCommand> {
        self.commands
            .iter()
            .filter(|c| c.comment == comment && c.sent_at >= since)
            .map(|c| SentCommand {
                command_id: c.id.clone(),
                comment: c.comment.clone(),
                instance_ids: c.instance_ids.clone(),
                requested_at: Some(c.sent_at),
            })
            .collect()
    }

    pub fn list_command_invocations(
        &self,
        command_id: &str,
        now: Timestamp,
    ) -> Vec<CommandInvocation> {
        let Some(command) = self.commands.iter().find(|c| c.id == command_id) else {
            return Vec::new();
        };
        let instances = self.instances(now);
        let done = now >= after(command.sent_at, COMMAND_RUNS_FOR);
        command
            .instance_ids
            .iter()
            .filter_map(|instance| {
                let spec = self.spec(instances.get(instance)?);
                let ok = if command.document == HEALTH_DOCUMENT {
                    spec.health_ok
                } else {
                    spec.action_ok
                };
                let (status, code) = match (done, ok) {
                    (false, _) => (InvocationStatus::InProgress, None),
                    (true, true) => (InvocationStatus::Success, Some(0)),
                    (true, false) => (InvocationStatus::Failed, Some(1)),
                };
                Some(CommandInvocation {
                    command_id: command.id.clone(),
                    instance_id: instance.clone(),
                    status,
                    response_code: code,
                    output: String::new(),
                    error: if ok {
                        String::new()
                    } else {
                        "model: exit 1".to_owned()
                    },
                })
            })
            .collect()
    }

    pub fn describe_instance_information(&self, ids: &[String], now: Timestamp) -> Vec<AgentInfo> {
        self.instances(now)
            .into_iter()
            .filter(|(i, _)| ids.contains(i))
            .map(|(instance_id, server)| AgentInfo {
                instance_id,
                ping_status: if self.spec(&server).agent_online {
                    AgentPing::Online
                } else {
                    AgentPing::ConnectionLost
                },
            })
            .collect()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}
