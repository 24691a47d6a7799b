//! Table tests of `options.cleanup_previous`: before a drill's wave
//! launches it terminates the drill instances earlier drills left for its
//! servers, never a recovery's nor one of this execution's, and launches
//! whatever came of it.

use super::tests::terminate_ids;
use crate::cleanup::{CleanupEffect, CleanupStep};
use crate::event::{Envelope, Event};
use crate::ids::{EventId, WaveNumber};
use crate::machine::{Change, Decision, Effect, State, decide};
use crate::ports::drs::{JobStatus, RecoveryInstance, RecoveryJob};
use crate::records::{CapacityState, WaveRecord};
use crate::service_error::ServiceError;
use crate::status_model::CleanupStatus;
use crate::testing::{at, execution_id, fresh};

fn envelope(event: Event, n: u128) -> Envelope {
    let mut e = Envelope::new(execution_id(), Some(WaveNumber(1)), event, at(0, 0));
    e.event_id = EventId(uuid::Uuid::from_u128(n));
    e
}

fn on(wave: &WaveRecord, event: Event, n: u128) -> (WaveRecord, Decision) {
    let d = decide(
        &State::Wave(wave.clone()),
        &envelope(event, n),
        at(0, n as i64),
    );
    let next = match &d.change {
        Some(Change::Wave(w)) => w.clone(),
        _ => wave.clone(),
    };
    assert!(d.rejected.is_empty(), "{:?}", d.rejected);
    (next, d)
}

fn step(wave: &WaveRecord, step: CleanupStep, n: u128) -> (WaveRecord, Decision) {
    on(wave, Event::CleanupWave { step }, n)
}

/// Wave 1 of a fresh drill with `cleanup_previous`.
fn wave() -> WaveRecord {
    let mut w = fresh().waves[0].clone();
    w.options.cleanup_previous = true;
    w
}

fn instance(wave: &WaveRecord, server: usize, n: u8, is_drill: bool) -> RecoveryInstance {
    RecoveryInstance {
        recovery_instance_id: format!("i-0leftover000000{n}"),
        ec2_instance_id: Some(format!("i-0ec2leftover00{n}")),
        ec2_instance_state: Some("RUNNING".into()),
        job_id: Some("drsjob-yesterday".into()),
        source_server_id: wave.servers[server].id().clone(),
        is_drill,
        point_in_time_snapshot: None,
    }
}

fn asks_capacity(d: &Decision) -> bool {
    d.effects.iter().any(|e| matches!(e, Effect::Admit { .. }))
}

#[test]
fn earlier_drills_instances_are_terminated_before_the_wave_gets_in_line() {
    let (w, d) = on(&wave(), Event::StartWave {}, 1);
    assert!(!asks_capacity(&d), "the leftovers first: {d:?}");
    assert!(matches!(
        d.effects[..],
        [Effect::Cleanup(CleanupEffect::FindLeftovers {
            tries: 1,
            ..
        })]
    ));
    let (same, d) = on(&w, Event::StartWave {}, 2);
    assert!(
        d.change.is_none() && same == w,
        "a duplicate StartWave waits"
    );

    let mut ours = instance(&w, 1, 3, true);
    ours.job_id = Some("drsjob-this-execution".into());
    let mut w = w;
    w.servers[1].recovery_job_id = Some("drsjob-this-execution".into());
    let mut elsewhere = instance(&w, 0, 4, true);
    elsewhere.source_server_id = crate::testing::server_id(999);
    let found = vec![
        instance(&w, 0, 1, true),
        instance(&w, 1, 2, false),
        ours,
        elsewhere,
    ];
    let (w, d) = step(
        &w,
        CleanupStep::LeftoversFound {
            tries: 1,
            instances: found,
        },
        3,
    );
    assert_eq!(
        terminate_ids(&d),
        vec!["i-0leftover0000001"],
        "never a recovery, this execution's or another server's"
    );
    let (w, _) = step(
        &w,
        CleanupStep::Terminating {
            tries: 1,
            job_id: "drsjob-terminate".into(),
        },
        4,
    );
    let job = RecoveryJob {
        job_id: "drsjob-terminate".into(),
        status: JobStatus::Completed,
        creation_time: None,
        end_time: None,
        participating_servers: vec![],
        tags: Default::default(),
    };
    let observed = CleanupStep::Observed {
        seq: 1,
        job: Some(job),
        remaining: vec![],
    };
    let (w, d) = step(&w, observed, 5);
    let l = w.leftovers.as_ref().unwrap();
    assert_eq!(l.instances.len(), 1);
    assert_eq!(l.instances[0].status, CleanupStatus::Terminated);
    assert!(l.ended_at.is_some());
    assert!(asks_capacity(&d), "then it gets in line: {d:?}");
    assert!(d.follow_ups.iter().any(|f| matches!(
        &f.envelope.event,
        Event::Announce { announcement } if announcement.detail_type() == "Ripcord Earlier Drill Instances"
    )));
    assert!(matches!(w.capacity, CapacityState::Asking { .. }));
    let view = crate::status::leftover_views(&w.servers[0], w.leftovers.as_ref());
    assert_eq!(
        view.iter().map(|v| v.summary.clone()).collect::<Vec<_>>(),
        vec![format!(
            "terminated {}'s leftover drill instance i-0leftover0000001 from an earlier drill",
            w.servers[0].id()
        )]
    );
}

#[test]
fn a_wave_without_leftovers_launches_at_once_and_a_failed_termination_launches_anyway() {
    let (w, _) = on(&wave(), Event::StartWave {}, 1);
    let (_, d) = step(
        &w,
        CleanupStep::LeftoversFound {
            tries: 1,
            instances: vec![],
        },
        2,
    );
    assert!(asks_capacity(&d));

    let found = vec![instance(&w, 0, 1, true)];
    let (w, _) = step(
        &w,
        CleanupStep::LeftoversFound {
            tries: 1,
            instances: found,
        },
        2,
    );
    let denied = ServiceError::from_code(
        "drs",
        "TerminateRecoveryInstances",
        "AccessDeniedException",
        "not allowed",
    );
    let (w, d) = step(
        &w,
        CleanupStep::TerminateFailed {
            tries: 1,
            error: denied,
        },
        3,
    );
    let l = w.leftovers.as_ref().unwrap();
    assert_eq!(l.instances[0].status, CleanupStatus::Failed);
    assert!(
        l.error.as_deref().unwrap().contains("AccessDenied"),
        "{l:?}"
    );
    assert!(
        asks_capacity(&d),
        "it launches anyway: DRS replaces the instance"
    );
}

#[test]
fn without_the_option_or_on_a_recovery_the_wave_gets_in_line_at_once() {
    let mut plain = wave();
    plain.options.cleanup_previous = false;
    let (_, d) = on(&plain, Event::StartWave {}, 1);
    assert!(asks_capacity(&d));
    let mut recovery = wave();
    recovery.mode = crate::plan::Mode::Recovery;
    let (w, d) = on(&recovery, Event::StartWave {}, 1);
    assert!(asks_capacity(&d) && w.leftovers.is_none());
}
