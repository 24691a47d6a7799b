//! `docs/status-model.md` is the status model the code answers to: its
//! transition table for each level must say exactly what `can_become` and
//! `is_terminal` allow. This test parses the tables and compares them both
//! ways, so a change to either without the other fails.

use ripcord::status_model::Transitions;
use ripcord::status_model::{
    ActionStatus, CleanupStatus, ExecutionStatus, HealthStatus, LaunchStatus, WaveStatus,
};
use serde::de::DeserializeOwned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/status-model.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the table under `### {heading}`: status → its successors, or
/// `None` for `(terminal)`.
fn table(doc: &str, heading: &str) -> BTreeMap<String, Option<BTreeSet<String>>> {
    let title = format!("### {heading}");
    let start = doc
        .lines()
        .position(|l| l.trim() == title)
        .unwrap_or_else(|| panic!("docs/status-model.md has no `{title}` heading"));
    let mut rows = BTreeMap::new();
    let lines = doc
        .lines()
        .skip(start + 1)
        .skip_while(|l| l.trim().is_empty());
    for line in lines.take_while(|l| l.trim_start().starts_with('|')) {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        assert_eq!(cells.len(), 2, "`{heading}`: a row has two cells: {line}");
        let (from, to) = (cells[0], cells[1]);
        if from == "from" || from.starts_with("---") {
            continue;
        }
        let successors = match to {
            "(terminal)" => None,
            "(none)" => Some(BTreeSet::new()),
            list => Some(list.split(',').map(|s| s.trim().to_owned()).collect()),
        };
        assert!(
            rows.insert(from.to_owned(), successors).is_none(),
            "`{heading}`: {from} has two rows"
        );
    }
    rows
}

fn name<S: serde::Serialize>(s: S) -> String {
    serde_json::to_value(s)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn check<S: Transitions + serde::Serialize + DeserializeOwned>(heading: &str) {
    let rows = table(&doc(), heading);
    let listed: BTreeSet<String> = S::ALL.iter().map(|s| name(*s)).collect();
    let documented: BTreeSet<String> = rows.keys().cloned().collect();
    assert_eq!(
        documented, listed,
        "`{heading}`: the statuses documented differ from the code's"
    );
    for &from in S::ALL {
        let row = &rows[&name(from)];
        match row {
            None => assert!(
                from.is_terminal(),
                "`{heading}`: the docs say {} is terminal, the code does not",
                name(from)
            ),
            Some(to) => {
                assert!(
                    !from.is_terminal(),
                    "`{heading}`: the code says {} is terminal, the docs list successors",
                    name(from)
                );
                for next in to {
                    let parsed: S = serde_json::from_value(serde_json::Value::String(next.clone()))
                        .unwrap_or_else(|_| panic!("`{heading}`: `{next}` is no status"));
                    assert!(
                        from.can_become(parsed),
                        "`{heading}`: the docs allow {} → {next}, the code refuses it",
                        name(from)
                    );
                }
            }
        }
        for &next in S::ALL {
            if from.can_become(next) {
                assert!(
                    row.as_ref().is_some_and(|to| to.contains(&name(next))),
                    "`{heading}`: the code allows {} → {}, the docs do not list it",
                    name(from),
                    name(next)
                );
            }
        }
    }
}

/// Compares one level's operator table (only statuses an operator moves
/// have a row) with `operator_can_become`, both ways.
fn check_operator<S: Transitions + serde::Serialize + DeserializeOwned>(heading: &str) {
    let rows = table(&doc(), heading);
    for &from in S::ALL {
        let documented: BTreeSet<String> =
            rows.get(&name(from)).cloned().flatten().unwrap_or_default();
        let code: BTreeSet<String> = S::ALL
            .iter()
            .filter(|&&next| from.operator_can_become(next))
            .map(|&next| name(next))
            .collect();
        assert_eq!(
            documented,
            code,
            "`{heading}`: the operator moves from {} differ (docs, code)",
            name(from)
        );
    }
}

/// Compares one level's table, panicking with the first difference.
type Check = fn(&str);

/// Every level's table, checked in one go so that one run names every
/// difference.
#[test]
fn every_level_s_transitions_match_the_docs() {
    let levels: [(&str, Check); 9] = [
        ("Execution transitions", check::<ExecutionStatus>),
        ("Wave transitions", check::<WaveStatus>),
        ("Launch transitions", check::<LaunchStatus>),
        ("Action transitions", check::<ActionStatus>),
        ("Health transitions", check::<HealthStatus>),
        ("Clean-up transitions", check::<CleanupStatus>),
        (
            "Execution operator transitions",
            check_operator::<ExecutionStatus>,
        ),
        ("Wave operator transitions", check_operator::<WaveStatus>),
        (
            "Launch operator transitions",
            check_operator::<LaunchStatus>,
        ),
    ];
    let failed: Vec<String> = levels
        .iter()
        .filter_map(|(heading, check)| {
            std::panic::catch_unwind(|| check(heading))
                .err()
                .map(|e| panic_text(e.as_ref()))
        })
        .collect();
    assert!(
        failed.is_empty(),
        "docs/status-model.md differs from the code:\n{}",
        failed.join("\n")
    );
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}
