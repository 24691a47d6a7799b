//! Resolving a plan's selections once, when it is submitted: each wave's
//! `select: { tags }` becomes its servers (the DRS source servers carrying
//! every tag, by id), and each server of a wave with `recovery_snapshot:
//! { before }` gets its snapshot (the newest taken at or before the time).
//! Pure: the caller reads DRS (`workers/src/select.rs`) and passes what it
//! found. The resolved plan is what the execution records keep, so a retry
//! launches the same servers from the same snapshots.

use crate::ids::SourceServerId;
use crate::plan::{
    ChosenSnapshot, MAX_SERVERS_PER_WAVE, MAX_WAVES_PER_PLAN, Plan, PlanError, PlanErrors,
    ServerPlan, SnapshotChoice, TagSelector, part_names, split_waves,
};
use crate::services::drs::{RecoverySnapshot, SourceServer};
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};

#[cfg(test)]
mod tests;

/// What one wave's tag selection resolved to, for pre-flight to show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selected {
    /// The wave as the plan names it (before any split).
    pub wave: String,
    pub selector: TagSelector,
    /// The servers the tags added (servers listed explicitly not counted).
    pub servers: usize,
    /// How many waves it runs as: 1, or the parts of a split.
    pub parts: usize,
}

impl Selected {
    /// "wave app-tier: select.tags {app: payments} → 12 servers".
    pub fn summary(&self) -> String {
        let split = if self.parts > 1 {
            format!(", split into {} parts", self.parts)
        } else {
            String::new()
        };
        format!(
            "wave {}: select.tags {} → {} server{}{split}",
            self.wave,
            self.selector.describe(),
            self.servers,
            if self.servers == 1 { "" } else { "s" }
        )
    }
}

/// The plan with every unresolved `select.tags` replaced by the servers of
/// `inventory` (DescribeSourceServers, all of them) that carry all its
/// tags: ordered by id, without servers the plan lists explicitly, with
/// DRS' hostnames. A wave over [`MAX_SERVERS_PER_WAVE`] is split when the
/// plan says `split_large_waves`, refused otherwise; a selection of no
/// server is refused. Errors name `file`, the selector's line and column,
/// and what to do.
pub fn resolve_tags(
    plan: Plan,
    inventory: &[SourceServer],
    file: &str,
) -> Result<(Plan, Vec<Selected>), PlanErrors> {
    let mut plan = plan;
    let mut errors = Vec::new();
    let mut selected = Vec::new();
    let listed: BTreeMap<SourceServerId, String> = plan
        .waves
        .iter()
        .flat_map(|w| {
            w.servers
                .iter()
                .map(move |s| (s.id.clone(), w.name.clone()))
        })
        .collect();
    let mut by_id: Vec<&SourceServer> = inventory.iter().collect();
    by_id.sort_by(|a, b| a.source_server_id.cmp(&b.source_server_id));
    // Which wave's selection took each server, so two may not take one.
    let mut taken: BTreeMap<SourceServerId, String> = BTreeMap::new();
    let region = plan.region.clone();
    let split = plan.options.split_large_waves;
    for wave in &mut plan.waves {
        let Some(selector) = wave.select.as_mut().filter(|s| s.resolved.is_none()) else {
            continue;
        };
        let error = |message: String| PlanError {
            file: file.to_owned(),
            line: selector.line,
            column: selector.column,
            message: format!(
                "wave {}: select.tags {} {message}",
                wave.name,
                selector.describe()
            ),
        };
        let matching: Vec<&SourceServer> = by_id
            .iter()
            .copied()
            .filter(|s| selector.matches(&s.tags))
            .collect();
        if matching.is_empty() {
            errors.push(error(format!(
                "matches no source server in DRS {region}; check the tags in the DRS console (Source servers, Tags: keys and values are case-sensitive), or list the servers under `servers`"
            )));
            continue;
        }
        let mut added = Vec::new();
        let mut overlaps: BTreeMap<&str, Vec<&SourceServerId>> = BTreeMap::new();
        for server in matching {
            let id = &server.source_server_id;
            if listed.contains_key(id) {
                continue;
            }
            if let Some(other) = taken.get(id) {
                overlaps.entry(other.as_str()).or_default().push(id);
                continue;
            }
            added.push(ServerPlan {
                id: id.clone(),
                hostname: server.hostname.clone().filter(|h| !h.trim().is_empty()),
                critical: true,
                recovery_snapshot: None,
            });
        }
        for (other, ids) in &overlaps {
            let shown: Vec<String> = ids.iter().take(5).map(ToString::to_string).collect();
            let more = if ids.len() > 5 { ", ..." } else { "" };
            errors.push(error(format!(
                "matches {} server(s) that wave {other}'s selection also matches ({}{more}): a server can be in only one wave; narrow one of the two selections",
                ids.len(),
                shown.join(", ")
            )));
        }
        if !overlaps.is_empty() {
            continue;
        }
        for server in &added {
            taken.insert(server.id.clone(), wave.name.clone());
        }
        if added.is_empty() && wave.servers.is_empty() {
            errors.push(error(
                "matches only servers the plan already lists in other waves, so the wave has no servers: change the tags, or remove the wave".to_owned(),
            ));
            continue;
        }
        let total = wave.servers.len() + added.len();
        if total > MAX_SERVERS_PER_WAVE && !split {
            errors.push(error(format!(
                "matches {} servers, so the wave has {total}, but DRS allows at most {MAX_SERVERS_PER_WAVE} servers per recovery job: narrow the tags (e.g. add `tier`), split the wave into several selections, or set `options.split_large_waves: true`",
                added.len()
            )));
            continue;
        }
        selector.resolved = Some(added.len());
        selected.push(Selected {
            wave: wave.name.clone(),
            selector: selector.clone(),
            servers: added.len(),
            parts: part_names(&wave.name, total).len(),
        });
        wave.servers.extend(added);
    }
    if errors.is_empty() {
        check_split(&plan, file, &mut errors);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| (e.line, e.column));
        return Err(PlanErrors(errors));
    }
    if split {
        plan.waves = split_waves(plan.waves);
    }
    Ok((plan, selected))
}

/// After a split, the parts' names must not clash and the plan must stay
/// within [`MAX_WAVES_PER_PLAN`].
fn check_split(plan: &Plan, file: &str, errors: &mut Vec<PlanError>) {
    if !plan.options.split_large_waves {
        return;
    }
    let names: BTreeSet<&str> = plan.waves.iter().map(|w| w.name.as_str()).collect();
    let mut count = 0;
    for wave in &plan.waves {
        let parts = part_names(&wave.name, wave.servers.len());
        count += parts.len();
        let (line, column) = wave.select.as_ref().map_or((0, 0), |s| (s.line, s.column));
        for part in parts.iter().filter(|p| **p != wave.name) {
            if names.contains(part.as_str()) {
                errors.push(PlanError {
                    file: file.to_owned(),
                    line,
                    column,
                    message: format!(
                        "wave {}: its selection makes it over {MAX_SERVERS_PER_WAVE} servers, and the name of its part `{part}` is another wave's: rename that wave",
                        wave.name
                    ),
                });
            }
        }
    }
    if count > MAX_WAVES_PER_PLAN {
        let at = plan.waves.iter().find_map(|w| w.select.as_ref());
        errors.push(PlanError {
            file: file.to_owned(),
            line: at.map_or(0, |s| s.line),
            column: at.map_or(0, |s| s.column),
            message: format!(
                "with its selections resolved and large waves split, the plan has {count} waves, but an execution holds at most {MAX_WAVES_PER_PLAN}: narrow the selections, or split the plan into several plans"
            ),
        });
    }
}

/// The servers whose snapshot is still to be chosen, with the time each
/// must be at or before (their wave's `recovery_snapshot: { before }`).
pub fn snapshots_wanted(plan: &Plan) -> Vec<(SourceServerId, Timestamp)> {
    plan.waves
        .iter()
        .filter_map(|w| match w.recovery_snapshot {
            Some(SnapshotChoice::Before { before, .. }) => Some((w, before)),
            _ => None,
        })
        .flat_map(|(w, before)| {
            w.servers
                .iter()
                .filter(|s| s.recovery_snapshot.is_none())
                .map(move |s| (s.id.clone(), before))
        })
        .collect()
}

/// The newest of `snapshots` taken at or before `before`.
pub fn newest_before(
    snapshots: &[RecoverySnapshot],
    before: Timestamp,
) -> Option<&RecoverySnapshot> {
    snapshots
        .iter()
        .filter(|s| s.taken_at() <= before)
        .max_by_key(|s| s.taken_at())
}

/// Records on each server of [`snapshots_wanted`] the snapshot chosen for
/// it from `found` (DescribeRecoverySnapshots of that server, at or before
/// its time); a server with none is an error naming it and the time.
pub fn choose_snapshots(
    plan: Plan,
    found: &BTreeMap<SourceServerId, Vec<RecoverySnapshot>>,
    file: &str,
) -> Result<Plan, PlanErrors> {
    let mut plan = plan;
    let mut errors = Vec::new();
    for wave in &mut plan.waves {
        let Some(SnapshotChoice::Before {
            before,
            line,
            column,
        }) = wave.recovery_snapshot
        else {
            continue;
        };
        for server in wave
            .servers
            .iter_mut()
            .filter(|s| s.recovery_snapshot.is_none())
        {
            let snapshots = found.get(&server.id).map_or(&[][..], Vec::as_slice);
            match newest_before(snapshots, before) {
                Some(snapshot) => {
                    server.recovery_snapshot = Some(ChosenSnapshot {
                        id: snapshot.snapshot_id.clone(),
                        taken_at: snapshot.taken_at(),
                    })
                }
                None => errors.push(PlanError {
                    file: file.to_owned(),
                    line,
                    column,
                    message: format!(
                        "wave {}: server {} has no recovery snapshot taken at or before {} (recovery_snapshot.before): DRS keeps snapshots only for its retention period and from when replication began; choose a later time, or `recovery_snapshot: latest`",
                        wave.name,
                        server.id,
                        before.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                    ),
                }),
            }
        }
    }
    if errors.is_empty() {
        Ok(plan)
    } else {
        Err(PlanErrors(errors))
    }
}
