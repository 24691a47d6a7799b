//! The waves of a plan that can run at once: what the DRS quotas must hold
//! for the plan to launch without waiting for capacity.
//!
//! A wave's depth is the length of the longest chain of dependencies
//! before it; waves of one depth become ready together once the waves
//! before them are done, so each depth is a set that can run at once. The
//! widest is the depth with the most servers. (Waves of different depths
//! may overlap too when one branch is faster; the check says "at least".)

use crate::plan::Plan;

/// A set of waves that can run at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Concurrent {
    pub waves: Vec<String>,
    pub servers: u32,
    /// One DRS job per wave.
    pub jobs: u32,
}

/// The depth with the most servers (the first such, in plan order).
pub fn widest_concurrent(plan: &Plan) -> Concurrent {
    let n = plan.waves.len();
    let mut depth = vec![0usize; n];
    // Dependencies form a DAG (the plan is validated); n passes settle it.
    for _ in 0..n {
        let mut changed = false;
        for (i, wave) in plan.waves.iter().enumerate() {
            let d = wave
                .depends_on
                .iter()
                .filter(|dep| dep.index() < n)
                .map(|dep| depth[dep.index()] + 1)
                .max()
                .unwrap_or(0);
            if d != depth[i] {
                depth[i] = d;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let deepest = depth.iter().copied().max().unwrap_or(0);
    (0..=deepest)
        .map(|d| {
            let waves: Vec<_> = plan
                .waves
                .iter()
                .enumerate()
                .filter(|(i, _)| depth[*i] == d)
                .map(|(_, w)| w)
                .collect();
            Concurrent {
                waves: waves.iter().map(|w| w.name.clone()).collect(),
                servers: waves.iter().map(|w| w.servers.len() as u32).sum(),
                jobs: waves.len() as u32,
            }
        })
        .fold(None::<Concurrent>, |best, c| match best {
            Some(b) if b.servers >= c.servers => Some(b),
            _ => Some(c),
        })
        .unwrap_or(Concurrent {
            waves: Vec::new(),
            servers: 0,
            jobs: 0,
        })
}
