//! A wave's `select: { tags: ... }` and the `recovery_snapshot` choice (of a
//! wave, or of the plan in `options`), checked as written. Selecting needs
//! DRS, so a selection is only checked here; `ripcord::selection` resolves
//! it into servers when the plan is submitted.

use super::error::{ErrorList, Pos};
use super::model::{SnapshotChoice, TagSelector};
use super::raw::{RawSelect, RawSnapshotChoice};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The wave's tag selector, when it has a valid one; `wave` names it in errors.
pub(super) fn selector(
    raw: Option<&Spanned<RawSelect>>,
    wave: &str,
    errors: &mut ErrorList,
) -> Option<TagSelector> {
    let raw = raw?;
    let at = Pos::of(raw);
    let Some(tags) = &raw.value.tags else {
        errors.push(
            at,
            format!(
                "{wave} has a `select` without `tags`: write `select: {{ tags: {{ app: payments }} }}` (the DRS source server tags to match), or remove `select`"
            ),
        );
        return None;
    };
    if tags.value.is_empty() {
        errors.push(
            Pos::of(tags),
            format!(
                "{wave} selects by no tags, which would take every source server in DRS: name at least one tag, e.g. `tags: {{ app: payments }}`"
            ),
        );
        return None;
    }
    let mut selected = BTreeMap::new();
    for (key, value) in &tags.value {
        if key.trim().is_empty() {
            errors.push(
                Pos::of(tags),
                format!("{wave} selects by a tag with an empty key: give every tag its key"),
            );
            return None;
        }
        selected.insert(key.clone(), value.0.clone());
    }
    Some(TagSelector {
        tags: selected,
        line: at.line,
        column: at.column,
        resolved: None,
    })
}

/// A `recovery_snapshot` value; `field` names it in errors.
pub(super) fn snapshot_choice(
    raw: Option<&Spanned<RawSnapshotChoice>>,
    field: &str,
    errors: &mut ErrorList,
) -> Option<SnapshotChoice> {
    let raw = raw?;
    let at = Pos::of(raw);
    match &raw.value {
        RawSnapshotChoice::Named(word) if word == "latest" => Some(SnapshotChoice::Latest),
        RawSnapshotChoice::Named(other) => {
            errors.push(
                at,
                format!(
                    "`{field}` is `{other}`: write `latest` (each server's latest data) or `{{ before: \"2026-12-01T06:00:00Z\" }}` (its newest snapshot at or before that time)"
                ),
            );
            None
        }
        RawSnapshotChoice::Before(before) => {
            let Some(time) = &before.before else {
                errors.push(
                    at,
                    format!(
                        "`{field}` has no `before`: write `{{ before: \"2026-12-01T06:00:00Z\" }}`, or `latest`"
                    ),
                );
                return None;
            };
            match chrono::DateTime::parse_from_rfc3339(time.value.trim()) {
                Ok(t) => Some(SnapshotChoice::Before {
                    before: t.with_timezone(&chrono::Utc),
                    line: at.line,
                    column: at.column,
                }),
                Err(e) => {
                    errors.push(
                        Pos::of(time),
                        format!(
                            "`{field}.before` is `{}`, which is not an RFC 3339 time ({e}): write it with a date, a time and a zone, e.g. `2026-12-01T06:00:00Z`",
                            time.value
                        ),
                    );
                    None
                }
            }
        }
    }
}
