//! What `check` refuses, and that each refusal says what to do.

use super::*;
use crate::records::Pause;
use crate::testing::{Fixture, fresh, server_id, t0};

fn fixture() -> Fixture {
    let mut f = fresh();
    f.execution.status = ExecutionStatus::InProgress;
    f
}

fn retry(wave: u32, servers: Vec<SourceServerId>) -> OperatorCommand {
    OperatorCommand::Retry {
        wave: WaveNumber(wave),
        servers,
    }
}

fn skip(wave: u32) -> OperatorCommand {
    OperatorCommand::Skip {
        wave: WaveNumber(wave),
        reason: "not needed today".into(),
    }
}

fn refused(f: &Fixture, wave: Option<u32>, command: &OperatorCommand) -> Refusal {
    let record = wave.map(|n| &f.waves[WaveNumber(n).index()]);
    check(&f.execution, record, command).expect_err("refused")
}

#[test]
fn a_retry_needs_a_failed_wave_and_failed_servers() {
    let mut f = fixture();
    f.set_wave_status(1, WaveStatus::Launching);
    let r = refused(&f, Some(1), &retry(1, vec![]));
    assert!(r.reason.contains("LAUNCHING, not FAILED"), "{r}");

    f.set_wave_status(1, WaveStatus::Failed);
    f.server_mut(1, 0).launch_status = LaunchStatus::Failed;
    f.server_mut(1, 1).launch_status = LaunchStatus::Completed;
    f.execution.status = ExecutionStatus::Failed;
    assert_eq!(
        check(&f.execution, Some(&f.waves[0]), &retry(1, vec![])),
        Ok(())
    );
    let r = refused(&f, Some(1), &retry(1, vec![server_id(0x12)]));
    assert!(r.reason.contains("COMPLETED, not FAILED"), "{r}");
    assert!(r.what_to_do.contains("only failed servers"), "{r}");
    let r = refused(&f, Some(1), &retry(1, vec![server_id(0x99)]));
    assert!(r.reason.contains("not in wave 1"), "{r}");
    let r = refused(&f, None, &retry(7, vec![]));
    assert!(r.reason.contains("no wave 7"), "{r}");

    f.execution.status = ExecutionStatus::Cancelled;
    let r = refused(&f, Some(1), &retry(1, vec![]));
    assert!(r.what_to_do.contains("ripcord run"), "{r}");
}

#[test]
fn a_running_or_ended_wave_is_not_skipped() {
    let mut f = fixture();
    f.set_wave_status(1, WaveStatus::PostActions);
    let r = refused(&f, Some(1), &skip(1));
    assert!(r.reason.contains("running wave cannot be skipped"), "{r}");
    f.set_wave_status(1, WaveStatus::Waiting);
    assert_eq!(check(&f.execution, Some(&f.waves[0]), &skip(1)), Ok(()));
    f.set_wave_status(2, WaveStatus::Completed);
    let r = refused(&f, Some(2), &skip(2));
    assert!(r.reason.contains("already COMPLETED"), "{r}");
    let no_reason = OperatorCommand::Skip {
        wave: WaveNumber(3),
        reason: " ".into(),
    };
    assert!(
        refused(&f, None, &no_reason)
            .reason
            .contains("needs a reason")
    );
}

#[test]
fn pause_and_resume_apply_once_and_only_to_a_running_execution() {
    let mut f = fixture();
    assert_eq!(check(&f.execution, None, &OperatorCommand::Pause), Ok(()));
    let r = refused(&f, None, &OperatorCommand::Resume);
    assert!(r.reason.contains("is not paused"), "{r}");
    f.execution.paused = Some(Pause {
        requested_by: "bob".into(),
        at: t0(),
        reason: None,
    });
    let r = refused(&f, None, &OperatorCommand::Pause);
    assert!(r.what_to_do.contains("ripcord resume"), "{r}");
    assert_eq!(check(&f.execution, None, &OperatorCommand::Resume), Ok(()));
    f.execution.status = ExecutionStatus::Completed;
    let r = refused(&f, None, &OperatorCommand::Resume);
    assert!(r.reason.contains("COMPLETED"), "{r}");
}

#[test]
fn a_cleaned_up_drill_is_neither_retried_nor_skipped() {
    let mut f = fixture();
    f.set_wave_status(1, WaveStatus::Failed);
    f.server_mut(1, 0).launch_status = LaunchStatus::Failed;
    f.execution.status = ExecutionStatus::Failed;
    assert_eq!(
        check(&f.execution, Some(&f.waves[0]), &retry(1, vec![])),
        Ok(())
    );
    f.execution.cleanup = Some(crate::records::ExecutionCleanup {
        requested_by: "alice".into(),
        reason: "drill over".into(),
        requested_at: t0(),
        waves: Vec::new(),
        ended_at: None,
        earlier: Vec::new(),
    });
    for command in [retry(1, vec![]), skip(1)] {
        let r = refused(&f, Some(1), &command);
        assert!(r.reason.contains("was cleaned up (asked by alice"), "{r}");
        assert!(r.what_to_do.contains("new drill"), "{r}");
    }
}
