use super::*;
use crate::testing::t0;
use proptest::prelude::*;

const MINUTE: Duration = Duration::from_secs(60);

/// `t0()` plus `seconds`.
fn at(seconds: u64) -> Timestamp {
    crate::testing::at(0, seconds as i64)
}

fn execution_id(n: u8) -> ExecutionId {
    format!("00000000-0000-4000-8000-0000000000{n:02x}")
        .parse()
        .expect("a valid uuid")
}

fn claim(execution: u8, wave: u32, servers: u32, recovery: bool, started_min: u64) -> Claim {
    Claim {
        holder: Holder {
            execution_id: execution_id(execution),
            wave: WaveNumber(wave),
            attempt: 1,
        },
        servers,
        priority: Priority {
            recovery,
            execution_started: at(started_min * 60),
        },
        hold_for: 60 * MINUTE,
        wait_for: 5 * MINUTE,
    }
}

/// The default quotas, but one job may hold them all: room for the tests'
/// large holds.
fn one_big_job() -> Quotas {
    Quotas {
        servers_per_job: 500,
        ..Quotas::default()
    }
}

fn drill(execution: u8, wave: u32, servers: u32) -> Claim {
    claim(execution, wave, servers, false, u64::from(execution))
}

#[test]
fn a_wave_that_fits_is_granted_and_asking_again_is_granted_again() {
    let mut ledger = Ledger::default();
    let q = Quotas::default();
    let c = drill(1, 1, 100);
    assert_eq!(ledger.admit(&c, &q, t0()), Admission::Granted);
    assert_eq!(ledger.admit(&c, &q, t0()), Admission::Granted);
    assert_eq!(ledger.in_use(), (100, 1));
}

#[test]
fn the_sixth_wave_of_a_hundred_waits_until_one_is_released() {
    let mut ledger = Ledger::default();
    let q = Quotas::default();
    for wave in 1..=5 {
        assert_eq!(
            ledger.admit(&drill(1, wave, 100), &q, t0()),
            Admission::Granted
        );
    }
    let sixth = drill(1, 6, 100);
    let Admission::Wait(wait) = ledger.admit(&sixth, &q, t0()) else {
        panic!("the sixth wave must wait");
    };
    assert_eq!(
        wait.to_string(),
        "waiting for DRS capacity: 500 of 500 servers in active jobs, 5 of 20 jobs, 100 more wanted"
    );
    assert!(ledger.release(&drill(1, 3, 100).holder));
    assert_eq!(ledger.admit(&sixth, &q, at(60)), Admission::Granted);
    assert!(ledger.waiting.is_empty());
    assert_eq!(ledger.in_use(), (500, 5));
}

#[test]
fn concurrent_jobs_are_a_quota_too() {
    let mut ledger = Ledger::default();
    let q = Quotas::default();
    for wave in 1..=20 {
        assert_eq!(
            ledger.admit(&drill(1, wave, 1), &q, t0()),
            Admission::Granted
        );
    }
    assert!(matches!(
        ledger.admit(&drill(1, 21, 1), &q, t0()),
        Admission::Wait(CapacityWait {
            jobs_in_use: 20,
            ..
        })
    ));
}

#[test]
fn a_recovery_goes_before_a_drill_and_an_earlier_execution_before_a_later_one() {
    let mut ledger = Ledger::default();
    let q = one_big_job();
    assert_eq!(
        ledger.admit(&drill(1, 1, 450), &q, t0()),
        Admission::Granted
    );
    // A drill asks first, then an earlier drill, then a recovery: the line
    // is recovery, earlier drill, later drill.
    let later_drill = drill(3, 1, 100);
    let earlier_drill = drill(2, 1, 100);
    let recovery = claim(4, 1, 100, true, 9);
    assert!(matches!(
        ledger.admit(&later_drill, &q, t0()),
        Admission::Wait(CapacityWait { ahead: 0, .. })
    ));
    assert!(matches!(
        ledger.admit(&earlier_drill, &q, t0()),
        Admission::Wait(CapacityWait { ahead: 0, .. })
    ));
    let Admission::Wait(w) = ledger.admit(&recovery, &q, t0()) else {
        panic!("no room yet");
    };
    assert_eq!(w.ahead, 0, "a recovery goes to the front");
    let Admission::Wait(w) = ledger.admit(&later_drill, &q, t0()) else {
        panic!("no room yet");
    };
    assert_eq!(w.ahead, 2);
    assert_eq!(w.to_string().rsplit(", ").next(), Some("2 waves ahead"));

    ledger.release(&drill(1, 1, 450).holder);
    // Room for four hundred more: the later drill would fit, but the
    // recovery and the earlier drill are ahead of it and take 200 of it.
    assert_eq!(ledger.admit(&later_drill, &q, at(60)), Admission::Granted);
    // Now only 200 remain for the two ahead: both still fit.
    assert_eq!(ledger.admit(&recovery, &q, at(60)), Admission::Granted);
    assert_eq!(ledger.admit(&earlier_drill, &q, at(60)), Admission::Granted);
}

#[test]
fn a_wave_that_does_not_fit_holds_up_the_ones_behind_it() {
    let mut ledger = Ledger::default();
    let q = one_big_job();
    assert_eq!(
        ledger.admit(&drill(1, 1, 450), &q, t0()),
        Admission::Granted
    );
    let big = drill(2, 1, 100);
    let small = drill(3, 1, 10);
    assert!(matches!(ledger.admit(&big, &q, t0()), Admission::Wait(_)));
    // 50 are free and 10 would fit, but the earlier execution is first.
    let Admission::Wait(w) = ledger.admit(&small, &q, t0()) else {
        panic!("the small wave must wait behind the big one");
    };
    assert_eq!(w.ahead, 1);
}

#[test]
fn a_place_in_line_lapses_when_its_wave_stops_asking() {
    let mut ledger = Ledger::default();
    let q = one_big_job();
    assert_eq!(
        ledger.admit(&drill(1, 1, 450), &q, t0()),
        Admission::Granted
    );
    let gone = drill(2, 1, 100);
    let small = drill(3, 1, 10);
    assert!(matches!(ledger.admit(&gone, &q, t0()), Admission::Wait(_)));
    assert!(matches!(ledger.admit(&small, &q, t0()), Admission::Wait(_)));
    // Six minutes later the first waiter has not asked again (wait_for is 5).
    assert_eq!(ledger.admit(&small, &q, at(6 * 60)), Admission::Granted);
    assert_eq!(ledger.usage(at(6 * 60)).waves_waiting, 0);
}

#[test]
fn a_hold_never_released_expires() {
    let mut ledger = Ledger::default();
    let q = Quotas::default();
    for wave in 1..=5 {
        assert_eq!(
            ledger.admit(&drill(1, wave, 100), &q, t0()),
            Admission::Granted
        );
    }
    let next = drill(2, 1, 100);
    assert!(matches!(
        ledger.admit(&next, &q, at(59 * 60)),
        Admission::Wait(_)
    ));
    assert_eq!(ledger.admit(&next, &q, at(61 * 60)), Admission::Granted);
    assert_eq!(ledger.usage(at(61 * 60)).servers_in_use, 100);
}

#[test]
fn a_wave_bigger_than_a_quota_is_refused_not_queued() {
    let mut ledger = Ledger::default();
    let q = Quotas {
        servers_per_job: 50,
        ..Quotas::default()
    };
    let Admission::TooBig(reason) = ledger.admit(&drill(1, 1, 80), &q, t0()) else {
        panic!("80 servers never fit a 50-server job");
    };
    assert!(reason.contains("split_large_waves"), "{reason}");
    assert!(ledger.waiting.is_empty());
}

#[test]
fn releasing_gives_back_the_hold_and_the_place_in_line() {
    let mut ledger = Ledger::default();
    let q = one_big_job();
    let a = drill(1, 1, 500);
    let b = drill(1, 2, 1);
    assert_eq!(ledger.admit(&a, &q, t0()), Admission::Granted);
    assert!(matches!(ledger.admit(&b, &q, t0()), Admission::Wait(_)));
    assert!(ledger.release(&b.holder));
    assert!(ledger.waiting.is_empty());
    assert!(ledger.release(&a.holder));
    assert!(
        !ledger.release(&a.holder),
        "releasing twice changes nothing"
    );
}

#[test]
fn the_ledger_reads_back_what_it_wrote() {
    let mut ledger = Ledger::default();
    let q = one_big_job();
    ledger.admit(&drill(1, 1, 450), &q, t0());
    ledger.admit(&drill(2, 1, 100), &q, t0());
    let json = serde_json::to_string(&ledger).unwrap();
    assert_eq!(serde_json::from_str::<Ledger>(&json).unwrap(), ledger);
}

#[derive(Clone, Debug)]
enum Op {
    Admit {
        execution: u8,
        wave: u32,
        servers: u32,
        recovery: bool,
    },
    Release {
        execution: u8,
        wave: u32,
    },
    Wait(u64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u8..6, 1u32..5, 1u32..=120, any::<bool>()).prop_map(|(execution, wave, servers, recovery)| Op::Admit { execution, wave, servers, recovery }),
        3 => (0u8..6, 1u32..5).prop_map(|(execution, wave)| Op::Release { execution, wave }),
        1 => (1u64..400).prop_map(Op::Wait),
    ]
}

proptest! {
    /// Whatever is asked, released and left to lapse, in any order, the
    /// ledger never holds more than the quotas allow, a grant is held, and
    /// no drill is granted while a recovery that would fit waits.
    #[test]
    fn no_sequence_of_claims_over_admits(ops in proptest::collection::vec(op(), 1..120)) {
        let quotas = Quotas { concurrent_jobs: 5, servers_in_active_jobs: 300, servers_per_job: 100 };
        let mut ledger = Ledger::default();
        let mut now = 0u64;
        for op in ops {
            match op {
                Op::Admit { execution, wave, servers, recovery } => {
                    let c = claim(execution, wave, servers, recovery, u64::from(execution));
                    let before = ledger.clone();
                    let answer = ledger.admit(&c, &quotas, at(now));
                    let (servers_held, jobs) = ledger.in_use();
                    prop_assert!(servers_held <= quotas.servers_in_active_jobs, "{ledger:?}");
                    prop_assert!(jobs <= quotas.concurrent_jobs, "{ledger:?}");
                    let held = ledger.holds.iter().any(|h| h.holder == c.holder);
                    prop_assert_eq!(answer == Admission::Granted, held);
                    let was_held = before.holds.iter().any(|h| h.holder == c.holder);
                    if answer == Admission::Granted && !was_held && !recovery {
                        let mut live = before.clone();
                        live.expire(at(now));
                        // A recovery that was ahead and fit blocks nothing
                        // it does not need; one that did not fit blocks all.
                        let (s, j) = live.in_use();
                        let blocked = live.waiting.iter().any(|w| w.priority.recovery
                            && w.holder != c.holder && !fits(s, j, w.servers, &quotas));
                        prop_assert!(!blocked, "a drill was granted while a recovery that did not fit waited: {before:?}");
                    }
                    if servers > quotas.servers_per_job && !was_held {
                        prop_assert!(matches!(answer, Admission::TooBig(_)));
                    }
                }
                Op::Release { execution, wave } => {
                    let c = claim(execution, wave, 1, false, 0);
                    ledger.release(&c.holder);
                    prop_assert!(!ledger.holds.iter().any(|h| h.holder == c.holder));
                }
                Op::Wait(seconds) => now += seconds,
            }
        }
    }
}

fn server_hold(execution: u8, servers: &[u16], recovery: bool) -> ServerHold {
    ServerHold {
        execution_id: execution_id(execution),
        recovery,
        servers: std::collections::BTreeMap::from([(
            WaveNumber(1),
            servers
                .iter()
                .map(|n| {
                    crate::ids::SourceServerId::parse(&format!("s-{n:017x}")).expect("a valid id")
                })
                .collect(),
        )]),
        since: t0(),
        expires_at: at(4 * 3600),
    }
}

#[test]
fn one_server_is_in_one_active_execution_at_a_time() {
    let mut ledger = Ledger::default();
    let first = server_hold(1, &[1, 2, 3], true);
    assert_eq!(ledger.claim_servers(&first, t0()), ServerClaim::Claimed);
    assert_eq!(
        ledger.claim_servers(&first, t0()),
        ServerClaim::Claimed,
        "asking again"
    );
    let ServerClaim::Busy(busy) = ledger.claim_servers(&server_hold(2, &[3, 4], false), t0())
    else {
        panic!("server 3 is held");
    };
    assert_eq!(
        describe_busy(&busy),
        format!(
            "server s-00000000000000003 is in active execution {} (wave 1 of a recovery)",
            execution_id(1)
        )
    );
    assert_eq!(
        ledger.claim_servers(&server_hold(3, &[4, 5], false), t0()),
        ServerClaim::Claimed,
        "other servers are free"
    );
    assert!(ledger.release_servers(execution_id(1)));
    assert_eq!(
        ledger.claim_servers(&server_hold(2, &[3, 6], false), t0()),
        ServerClaim::Claimed
    );
    // A hold its execution never gave back lapses.
    assert_eq!(
        ledger.claim_servers(&server_hold(4, &[4], false), at(5 * 3600)),
        ServerClaim::Claimed
    );
}
