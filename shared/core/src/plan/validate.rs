//! Validation: from the plan as written ([`super::raw`]) to the [`Plan`] an
//! execution runs. Every problem is recorded with its place and validation
//! carries on, so a plan's errors are all reported in one go.

use super::dependencies::{self, DeclaredDependencies, WaveName, label};
use super::error::{ErrorList, PlanErrors, Pos};
use super::health::health_checks;
use super::model::{
    ActionPlan, DEFAULT_ACTION_TIMEOUT, DEFAULT_HEALTH_TIMEOUT, DEFAULT_LAUNCH_TIMEOUT,
    MAX_SERVERS_PER_WAVE, MAX_WAVES_PER_PLAN, Mode, Plan, ServerPlan,
};
use super::options::{duration, options};
use super::raw::{RawAction, RawDefaults, RawPlan, RawServer, RawWave, Text};
use super::select::{selector, snapshot_choice};
use super::split::{self, WaveDraft, number_wave};
use crate::ids::SourceServerId;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

/// Checks the plan as written and builds the [`Plan`], or returns every problem found.
pub(super) fn validate(raw: Spanned<RawPlan>, file: &str) -> Result<Plan, PlanErrors> {
    let mut errors = ErrorList::new(file);
    let plan_at = Pos::of(&raw);
    let raw = raw.value;
    if raw.name.is_none()
        && raw.mode.is_none()
        && raw.region.is_none()
        && raw.waves.is_none()
        && raw.options.is_none()
        && raw.defaults.is_none()
    {
        // An empty document has no node to point at; its start will do.
        errors.push(
            Pos { line: 1, column: 1 },
            "the plan is empty: write at least `name`, `mode`, `region` and `waves` (see the plan format in the README)",
        );
        return Err(errors.into_errors());
    }

    let name = required_name(
        raw.name.as_ref(),
        plan_at,
        "the plan has no `name`: add one, e.g. `name: payments-drill`",
        "the plan's `name` is empty: give the plan a name, e.g. `name: payments-drill`",
        &mut errors,
    );
    let mode = mode(raw.mode.as_ref(), plan_at, &mut errors);
    let region = region(raw.region.as_ref(), plan_at, &mut errors);
    let (options, split_large_waves) = options(raw.options.as_ref(), &mut errors);
    if mode == Some(Mode::Recovery)
        && let Some(cleanup) = raw.options.as_ref().and_then(|o| o.value.cleanup.as_ref())
    {
        errors.push(
            Pos::of(cleanup),
            "`options.cleanup` is for drills: on a `mode: recovery` plan it would terminate the recovered production instances. Remove it; if a recovery's instances must go, run `ripcord cleanup ID --confirm-recovery` yourself",
        );
    }
    if mode == Some(Mode::Recovery)
        && let Some(previous) = raw
            .options
            .as_ref()
            .and_then(|o| o.value.cleanup_previous.as_ref())
            .filter(|p| p.value)
    {
        errors.push(
            Pos::of(previous),
            "`options.cleanup_previous` is for drills: it terminates the drill instances earlier drills left, before a drill launches. Remove it from this `mode: recovery` plan",
        );
    }
    let defaults = WaveDefaults::read(raw.defaults.as_ref(), &mut errors);

    let raw_waves: &[Spanned<RawWave>] = raw.waves.as_ref().map_or(&[], |w| &w.value);
    if raw_waves.is_empty() {
        let at = raw.waves.as_ref().map_or(plan_at, Pos::of);
        errors.push(
            at,
            "the plan has no waves: add a `waves` list with at least one wave of servers",
        );
    }

    let names = wave_names(raw_waves, &mut errors);
    let declared: Vec<DeclaredDependencies> = raw_waves.iter().map(declared_dependencies).collect();
    let dependencies = dependencies::resolve(&names, &declared, &mut errors);
    dependencies::reject_cycles(&names, &dependencies, &mut errors);

    let mut servers_seen: HashMap<SourceServerId, (usize, Pos)> = HashMap::new();
    let mut drafts = Vec::with_capacity(raw_waves.len());
    for (index, raw_wave) in raw_waves.iter().enumerate() {
        let select = selector(
            raw_wave.value.select.as_ref(),
            &label(&names, index),
            &mut errors,
        );
        let servers = wave_servers(index, raw_wave, &names, &mut servers_seen, &mut errors);
        check_wave_size(
            index,
            raw_wave,
            servers.len(),
            split_large_waves,
            &names,
            &mut errors,
        );
        drafts.push(WaveDraft {
            name: names[index]
                .as_ref()
                .map_or_else(String::new, |(n, _)| n.clone()),
            servers,
            depends_on: dependencies[index].iter().map(|d| d.on).collect(),
            post_launch: actions(index, &raw_wave.value, &names, &defaults, &mut errors),
            health_checks: health_checks(&raw_wave.value, &mut errors),
            launch_timeout: duration(
                raw_wave.value.launch_timeout.as_ref(),
                "launch_timeout",
                defaults.launch_timeout,
                &mut errors,
            ),
            health_timeout: duration(
                raw_wave.value.health_timeout.as_ref(),
                "health_timeout",
                defaults.health_timeout,
                &mut errors,
            ),
            wait_for_approval: raw_wave
                .value
                .wait_for_approval
                .as_ref()
                .is_some_and(|w| w.value),
            recovery_snapshot: snapshot_choice(
                raw_wave.value.recovery_snapshot.as_ref(),
                "recovery_snapshot",
                &mut errors,
            )
            .or_else(|| options.recovery_snapshot.clone()),
            select,
        });
    }
    if split_large_waves {
        check_part_names(&names, &drafts, &mut errors);
    }
    check_wave_count(&raw, plan_at, &drafts, split_large_waves, &mut errors);

    if !errors.is_empty() {
        return Err(errors.into_errors());
    }
    let drafts = if split_large_waves {
        split::split_large_waves(drafts)
    } else {
        drafts
    };
    Ok(Plan {
        name,
        mode: mode.expect("a plan without errors has a mode"),
        region,
        waves: drafts.into_iter().enumerate().map(number_wave).collect(),
        options,
    })
}

/// A required, non-blank name; `missing` and `blank` say how to fix it.
fn required_name(
    value: Option<&Text>,
    parent: Pos,
    missing: &str,
    blank: &str,
    errors: &mut ErrorList,
) -> String {
    match value {
        None => {
            errors.push(parent, missing);
            String::new()
        }
        Some(v) if v.value.trim().is_empty() => {
            errors.push(Pos::of(v), blank);
            String::new()
        }
        Some(v) => v.value.clone(),
    }
}

fn mode(value: Option<&Text>, plan_at: Pos, errors: &mut ErrorList) -> Option<Mode> {
    let Some(value) = value else {
        errors.push(
            plan_at,
            "the plan has no `mode`: set `mode: drill` for a rehearsal or `mode: recovery` for a real failover",
        );
        return None;
    };
    match value.value.as_str() {
        "drill" => Some(Mode::Drill),
        "recovery" => Some(Mode::Recovery),
        other => {
            errors.push(
                Pos::of(value),
                format!(
                    "`mode` is `{other}`: it must be `drill` (a rehearsal) or `recovery` (a real failover)"
                ),
            );
            None
        }
    }
}

fn region(value: Option<&Text>, plan_at: Pos, errors: &mut ErrorList) -> String {
    let Some(value) = value else {
        errors.push(
            plan_at,
            "the plan has no `region`: set the AWS region of the DRS source servers, e.g. `region: us-east-1`",
        );
        return String::new();
    };
    if !looks_like_region(&value.value) {
        errors.push(
            Pos::of(value),
            format!(
                "`{}` is not an AWS region name: write it as the console does, e.g. `us-east-1` or `eu-west-2`",
                value.value
            ),
        );
    }
    value.value.clone()
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: letters, dashes, a number.
fn looks_like_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
}

/// Timeouts from the plan's `defaults`, for waves that do not set their own.
struct WaveDefaults {
    launch_timeout: Duration,
    health_timeout: Duration,
    action_timeout: Duration,
}

impl WaveDefaults {
    fn read(raw: Option<&Spanned<RawDefaults>>, errors: &mut ErrorList) -> Self {
        let raw = raw.map(|r| &r.value);
        Self {
            launch_timeout: duration(
                raw.and_then(|r| r.launch_timeout.as_ref()),
                "defaults.launch_timeout",
                DEFAULT_LAUNCH_TIMEOUT,
                errors,
            ),
            health_timeout: duration(
                raw.and_then(|r| r.health_timeout.as_ref()),
                "defaults.health_timeout",
                DEFAULT_HEALTH_TIMEOUT,
                errors,
            ),
            action_timeout: duration(
                raw.and_then(|r| r.action_timeout.as_ref()),
                "defaults.action_timeout",
                DEFAULT_ACTION_TIMEOUT,
                errors,
            ),
        }
    }
}

/// Each wave's name, checked to be present, not blank and unique. A wave
/// whose name is missing or blank gets `None` and cannot be depended on.
fn wave_names(waves: &[Spanned<RawWave>], errors: &mut ErrorList) -> Vec<WaveName> {
    let mut first_use: HashMap<&str, Pos> = HashMap::new();
    waves
        .iter()
        .enumerate()
        .map(|(index, wave)| {
            let number = index + 1;
            match &wave.value.name {
                None => {
                    errors.push(
                        Pos::of(wave),
                        format!("wave {number} has no `name`: add one, e.g. `name: databases`"),
                    );
                    None
                }
                Some(name) if name.value.trim().is_empty() => {
                    errors.push(
                        Pos::of(name),
                        format!("wave {number} has an empty `name`: give it a unique name"),
                    );
                    None
                }
                Some(name) => {
                    let at = Pos::of(name);
                    if let Some(first) = first_use.get(name.value.as_str()) {
                        errors.push(
                            at,
                            format!(
                                "wave name `{}` is already used by the wave at line {}: wave names must be unique, rename one",
                                name.value, first.line
                            ),
                        );
                    } else {
                        first_use.insert(&name.value, at);
                    }
                    Some((name.value.clone(), at))
                }
            }
        })
        .collect()
}

fn declared_dependencies(wave: &Spanned<RawWave>) -> DeclaredDependencies {
    match &wave.value.depends_on {
        None => DeclaredDependencies::Previous { at: Pos::of(wave) },
        Some(list) => DeclaredDependencies::Named(
            list.value
                .iter()
                .map(|name| (name.value.clone(), Pos::of(name)))
                .collect(),
        ),
    }
}

/// The wave's servers; each id well formed and in no other place of the plan.
fn wave_servers(
    index: usize,
    wave: &Spanned<RawWave>,
    names: &[WaveName],
    seen: &mut HashMap<SourceServerId, (usize, Pos)>,
    errors: &mut ErrorList,
) -> Vec<ServerPlan> {
    let selects = wave.value.select.is_some();
    let Some(entries) = &wave.value.servers else {
        if !selects {
            errors.push(
                Pos::of(wave),
                format!(
                    "{} has no `servers`: list the DRS source server ids it launches, or select them with `select: {{ tags: {{ ... }} }}`",
                    label(names, index)
                ),
            );
        }
        return Vec::new();
    };
    if entries.value.is_empty() && !selects {
        errors.push(
            Pos::of(entries),
            format!(
                "{} has no servers: list at least one DRS source server id, or remove the wave",
                label(names, index)
            ),
        );
    }
    let mut servers = Vec::with_capacity(entries.value.len());
    for entry in &entries.value {
        let Some(server) = server(entry, errors) else {
            continue;
        };
        let at = match &entry.value {
            RawServer::Detailed(d) => d.id.as_ref().map_or(Pos::of(entry), Pos::of),
            RawServer::Id(_) => Pos::of(entry),
        };
        if let Some(&(first_wave, first_at)) = seen.get(&server.id) {
            let message = if first_wave == index {
                format!(
                    "server {} is listed twice in {} (first at line {}): remove one of them",
                    server.id,
                    label(names, index),
                    first_at.line
                )
            } else {
                format!(
                    "server {} is already in {} (line {}): a server can be in only one wave, remove one of the two",
                    server.id,
                    label(names, first_wave),
                    first_at.line
                )
            };
            errors.push(at, message);
            continue;
        }
        seen.insert(server.id.clone(), (index, at));
        servers.push(server);
    }
    servers
}

fn server(entry: &Spanned<RawServer>, errors: &mut ErrorList) -> Option<ServerPlan> {
    let (id, id_at, hostname, critical) = match &entry.value {
        RawServer::Id(id) => (id.as_str(), Pos::of(entry), None, None),
        RawServer::Detailed(detail) => {
            let Some(id) = &detail.id else {
                errors.push(
                    Pos::of(entry),
                    "this server has no `id`: add `id: s-...` (the DRS source server id)",
                );
                return None;
            };
            (
                id.value.as_str(),
                Pos::of(id),
                detail.hostname.as_ref(),
                detail.critical.as_ref(),
            )
        }
    };
    let id = match SourceServerId::parse(id.trim()) {
        Ok(id) => id,
        Err(bad) => {
            // DRS' ids are case-sensitive, but only the prefix must be
            // lowercase: `S-...` is most likely a typo for `s-...`.
            let hint = id
                .trim()
                .strip_prefix("S-")
                .map(|rest| format!("s-{rest}"))
                .filter(|fixed| SourceServerId::parse(fixed).is_ok())
                .map(|fixed| format!("; write the prefix in lowercase: {fixed}"))
                .unwrap_or_default();
            errors.push(id_at, format!("{bad}{hint}"));
            return None;
        }
    };
    if let Some(hostname) = hostname.filter(|h| h.value.trim().is_empty()) {
        errors.push(
            Pos::of(hostname),
            "`hostname` is empty: give the server's host name, or leave `hostname` out",
        );
    }
    Some(ServerPlan {
        id,
        hostname: hostname.map(|h| h.value.clone()),
        critical: critical.is_none_or(|c| c.value),
        recovery_snapshot: None,
    })
}

/// A wave over DRS' per-job quota is an error unless it will be split.
fn check_wave_size(
    index: usize,
    wave: &Spanned<RawWave>,
    servers: usize,
    split_large_waves: bool,
    names: &[WaveName],
    errors: &mut ErrorList,
) {
    if servers <= MAX_SERVERS_PER_WAVE || split_large_waves {
        return;
    }
    let at = wave.value.servers.as_ref().map_or(Pos::of(wave), Pos::of);
    errors.push(
        at,
        format!(
            "{} has {servers} servers, but DRS allows at most {MAX_SERVERS_PER_WAVE} servers per recovery job: \
             split it into waves of at most {MAX_SERVERS_PER_WAVE} servers, or set `options.split_large_waves: true`",
            label(names, index)
        ),
    );
}

/// At most [`MAX_WAVES_PER_PLAN`] waves once large waves are split.
fn check_wave_count(
    raw: &RawPlan,
    plan_at: Pos,
    drafts: &[WaveDraft],
    split_large_waves: bool,
    errors: &mut ErrorList,
) {
    let count: usize = drafts
        .iter()
        .map(|d| {
            if split_large_waves {
                split::part_sizes(d.servers.len()).len()
            } else {
                1
            }
        })
        .sum();
    if count <= MAX_WAVES_PER_PLAN {
        return;
    }
    let at = raw.waves.as_ref().map_or(plan_at, Pos::of);
    let split = if split_large_waves && count > drafts.len() {
        format!(" ({} written, the rest parts of split waves)", drafts.len())
    } else {
        String::new()
    };
    errors.push(
        at,
        format!(
            "the plan has {count} waves{split}, but an execution holds at most {MAX_WAVES_PER_PLAN}: \
             merge waves (up to {MAX_SERVERS_PER_WAVE} servers each), or split the plan into several plans"
        ),
    );
}

/// The names given to parts of a split wave must not clash with another wave's.
fn check_part_names(names: &[WaveName], drafts: &[WaveDraft], errors: &mut ErrorList) {
    let taken: HashMap<&str, Pos> = names
        .iter()
        .flatten()
        .map(|(n, at)| (n.as_str(), *at))
        .collect();
    for (draft, name) in drafts.iter().zip(names) {
        let Some((name, _)) = name else { continue };
        for part in split::part_names(name, draft.servers.len()) {
            if let Some(&at) = taken.get(part.as_str()).filter(|_| &part != name) {
                errors.push(
                    at,
                    format!(
                        "wave name `{part}` is also the name of a part of wave `{name}`, which is split because it has over {MAX_SERVERS_PER_WAVE} servers: rename this wave"
                    ),
                );
            }
        }
    }
}

fn actions(
    index: usize,
    wave: &RawWave,
    names: &[WaveName],
    defaults: &WaveDefaults,
    errors: &mut ErrorList,
) -> Vec<ActionPlan> {
    let mut first_use: HashMap<&str, Pos> = HashMap::new();
    let mut actions = Vec::new();
    for (position, entry) in wave.post_launch.iter().flatten().enumerate() {
        let raw: &RawAction = &entry.value;
        let action_label = match &raw.name {
            Some(n) if !n.value.trim().is_empty() => format!("action `{}`", n.value),
            _ => format!("action {} of {}", position + 1, label(names, index)),
        };
        let name = required_name(
            raw.name.as_ref(),
            Pos::of(entry),
            &format!("{action_label} has no `name`: add one, e.g. `name: start-db`"),
            &format!("{action_label} has an empty `name`: give it a name"),
            errors,
        );
        if let Some(n) = raw.name.as_ref().filter(|_| !name.is_empty()) {
            if let Some(first) = first_use.get(n.value.as_str()) {
                errors.push(
                    Pos::of(n),
                    format!(
                        "{} already has an action named `{name}` (line {}): action names must be unique within a wave",
                        label(names, index),
                        first.line
                    ),
                );
            } else {
                first_use.insert(&n.value, Pos::of(n));
            }
        }
        let document = required_name(
            raw.document.as_ref(),
            Pos::of(entry),
            &format!(
                "{action_label} has no `document`: name the SSM document to run, e.g. `document: AWS-RunShellScript`"
            ),
            &format!("{action_label} has an empty `document`: name the SSM document to run"),
            errors,
        );
        let parameters: BTreeMap<String, Vec<String>> = raw
            .parameters
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        actions.push(ActionPlan {
            name,
            document,
            parameters,
            timeout: duration(
                raw.timeout.as_ref(),
                "timeout",
                defaults.action_timeout,
                errors,
            ),
        });
    }
    actions
}
