//! Splitting waves over DRS' 100-servers-per-job quota (`options.split_large_waves`).
//!
//! A wave `app` of 250 servers becomes `app (part 1/3)`, `app (part 2/3)` and
//! `app (part 3/3)` of 84, 83 and 83 servers: as even as possible, each at
//! most [`MAX_SERVERS_PER_WAVE`]. Every part keeps the original's
//! dependencies, actions, checks, timeouts and approval gate, so the parts
//! run side by side; a wave that depended on `app` depends on all its parts.

use super::model::MAX_SERVERS_PER_WAVE;
use super::model::{ActionPlan, HealthCheck, ServerPlan, SnapshotChoice, TagSelector, WavePlan};
use crate::ids::WaveNumber;
use std::time::Duration;

/// A validated wave before numbering: `depends_on` holds indices into the
/// list of drafts, which splitting may still reshape.
#[derive(Debug, Clone)]
pub(super) struct WaveDraft {
    pub name: String,
    pub servers: Vec<ServerPlan>,
    pub depends_on: Vec<usize>,
    pub post_launch: Vec<ActionPlan>,
    pub health_checks: Vec<HealthCheck>,
    pub launch_timeout: Duration,
    pub health_timeout: Duration,
    pub wait_for_approval: bool,
    pub select: Option<TagSelector>,
    pub recovery_snapshot: Option<SnapshotChoice>,
}

/// How many servers each part of a wave of `servers` gets, in order.
pub(super) fn part_sizes(servers: usize) -> Vec<usize> {
    let parts = servers.div_ceil(MAX_SERVERS_PER_WAVE).max(1);
    let (base, extra) = (servers / parts, servers % parts);
    (0..parts).map(|i| base + usize::from(i < extra)).collect()
}

/// The names the parts of wave `name` of `servers` servers get; just `name`
/// when the wave fits in one job.
pub fn part_names(name: &str, servers: usize) -> Vec<String> {
    let parts = part_sizes(servers).len();
    if parts == 1 {
        return vec![name.to_owned()];
    }
    (1..=parts)
        .map(|i| format!("{name} (part {i}/{parts})"))
        .collect()
}

/// The waves with every wave over the quota replaced by its parts, and the
/// dependencies (indices into the list) rewired to the new positions.
pub(super) fn split_large_waves(waves: Vec<WaveDraft>) -> Vec<WaveDraft> {
    // new_positions[i]: where the parts of original wave i end up.
    let mut new_positions: Vec<Vec<usize>> = Vec::with_capacity(waves.len());
    let mut next = 0;
    for wave in &waves {
        let parts = part_sizes(wave.servers.len()).len();
        new_positions.push((next..next + parts).collect());
        next += parts;
    }
    let mut result = Vec::with_capacity(next);
    for wave in waves {
        let depends_on: Vec<usize> = wave
            .depends_on
            .iter()
            .flat_map(|&d| new_positions[d].iter().copied())
            .collect();
        let names = part_names(&wave.name, wave.servers.len());
        let mut servers = wave.servers.iter();
        for (name, size) in names.into_iter().zip(part_sizes(wave.servers.len())) {
            result.push(WaveDraft {
                name,
                servers: servers.by_ref().take(size).cloned().collect(),
                depends_on: depends_on.clone(),
                ..wave.clone()
            });
        }
    }
    result
}

pub(super) fn number_wave((index, draft): (usize, WaveDraft)) -> WavePlan {
    WavePlan {
        number: WaveNumber::from_index(index),
        name: draft.name,
        servers: draft.servers,
        depends_on: draft
            .depends_on
            .into_iter()
            .map(WaveNumber::from_index)
            .collect(),
        post_launch: draft.post_launch,
        health_checks: draft.health_checks,
        launch_timeout: draft.launch_timeout,
        health_timeout: draft.health_timeout,
        wait_for_approval: draft.wait_for_approval,
        select: draft.select,
        recovery_snapshot: draft.recovery_snapshot,
    }
}

/// Splits every wave over the quota of a plan's numbered waves into parts,
/// renumbering the waves and rewiring their dependencies: for waves that
/// got their servers after parsing (selected by tags, `ripcord::selection`).
pub fn split_waves(waves: Vec<WavePlan>) -> Vec<WavePlan> {
    let drafts = waves
        .into_iter()
        .map(|w| WaveDraft {
            name: w.name,
            servers: w.servers,
            depends_on: w.depends_on.iter().map(|d| d.index()).collect(),
            post_launch: w.post_launch,
            health_checks: w.health_checks,
            launch_timeout: w.launch_timeout,
            health_timeout: w.health_timeout,
            wait_for_approval: w.wait_for_approval,
            select: w.select,
            recovery_snapshot: w.recovery_snapshot,
        })
        .collect();
    split_large_waves(drafts)
        .into_iter()
        .enumerate()
        .map(number_wave)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_as_even_as_possible_and_within_the_quota() {
        assert_eq!(part_sizes(250), vec![84, 83, 83]);
        assert_eq!(part_sizes(100), vec![100]);
        assert_eq!(part_sizes(101), vec![51, 50]);
        assert_eq!(part_sizes(200), vec![100, 100]);
        assert_eq!(part_sizes(201), vec![67, 67, 67]);
        assert_eq!(part_sizes(7), vec![7]);
        for n in 1..=1000 {
            let sizes = part_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n, "{n} servers");
            assert!(sizes.iter().all(|&s| s <= MAX_SERVERS_PER_WAVE), "{n}");
            let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
            assert!(max - min <= 1, "{n} servers split unevenly: {sizes:?}");
            assert_eq!(sizes.len(), n.div_ceil(MAX_SERVERS_PER_WAVE), "{n}");
        }
    }

    #[test]
    fn part_names_number_the_parts() {
        assert_eq!(
            part_names("app", 250),
            vec!["app (part 1/3)", "app (part 2/3)", "app (part 3/3)"]
        );
        assert_eq!(part_names("db", 40), vec!["db"]);
    }
}
