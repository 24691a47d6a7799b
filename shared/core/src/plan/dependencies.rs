//! Wave dependencies: resolving `depends_on` names to waves (a wave without
//! `depends_on` waits for the previous one) and rejecting cycles, in which no
//! wave could ever start.

use super::error::{ErrorList, Pos};

/// A wave's name as written, or `None` when the wave has no usable name.
pub(super) type WaveName = Option<(String, Pos)>;

/// "This wave waits for wave `on`", and where the plan says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Dependency {
    /// Index of the wave depended on, in file order.
    pub on: usize,
    /// The `depends_on` entry, or the wave itself for the implicit
    /// dependency on the previous wave.
    pub at: Pos,
}

/// What a wave's `depends_on` says.
#[derive(Debug, Clone)]
pub(super) enum DeclaredDependencies {
    /// No `depends_on`: the previous wave, if any. `at` is the wave itself.
    Previous { at: Pos },
    /// `depends_on: [...]`: these names (possibly none).
    Named(Vec<(String, Pos)>),
}

/// Each wave's dependencies, as indices of waves in file order. Unknown
/// names are reported and left out; a name listed twice counts once.
pub(super) fn resolve(
    names: &[WaveName],
    declared: &[DeclaredDependencies],
    errors: &mut ErrorList,
) -> Vec<Vec<Dependency>> {
    declared
        .iter()
        .enumerate()
        .map(|(index, declared)| match declared {
            DeclaredDependencies::Previous { at } => match index {
                0 => Vec::new(),
                _ => vec![Dependency {
                    on: index - 1,
                    at: *at,
                }],
            },
            DeclaredDependencies::Named(entries) => {
                let mut resolved: Vec<Dependency> = Vec::new();
                for (name, at) in entries {
                    match names
                        .iter()
                        .position(|n| n.as_ref().is_some_and(|(n, _)| n == name))
                    {
                        Some(on) if resolved.iter().all(|d| d.on != on) => {
                            resolved.push(Dependency { on, at: *at });
                        }
                        Some(_) => {}
                        None => errors.push(
                            *at,
                            format!(
                                "{} depends on `{name}`, which is not a wave in this plan ({}): fix the name",
                                label(names, index),
                                known_names(names)
                            ),
                        ),
                    }
                }
                resolved
            }
        })
        .collect()
}

/// Reports every dependency cycle found, as `a -> b -> a` (read `->` as
/// "depends on"), at the dependency that leaves the cycle's first wave.
pub(super) fn reject_cycles(
    names: &[WaveName],
    dependencies: &[Vec<Dependency>],
    errors: &mut ErrorList,
) {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Unvisited,
        OnPath,
        Done,
    }
    let mut marks = vec![Mark::Unvisited; dependencies.len()];
    // An explicit stack: a plan may chain thousands of waves.
    for start in 0..dependencies.len() {
        if marks[start] != Mark::Unvisited {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        marks[start] = Mark::OnPath;
        while let Some(top) = path.last_mut() {
            let (wave, next) = *top;
            let Some(dependency) = dependencies[wave].get(next) else {
                marks[wave] = Mark::Done;
                path.pop();
                continue;
            };
            top.1 += 1;
            match marks[dependency.on] {
                Mark::Unvisited => {
                    marks[dependency.on] = Mark::OnPath;
                    path.push((dependency.on, 0));
                }
                Mark::OnPath => {
                    let from = path
                        .iter()
                        .position(|&(w, _)| w == dependency.on)
                        .expect("a wave marked on the path is on the path");
                    let cycle: Vec<usize> = path[from..].iter().map(|&(w, _)| w).collect();
                    report_cycle(names, dependencies, &cycle, errors);
                }
                Mark::Done => {}
            }
        }
    }
}

/// `cycle` lists waves each depending on the next, the last on the first.
fn report_cycle(
    names: &[WaveName],
    dependencies: &[Vec<Dependency>],
    cycle: &[usize],
    errors: &mut ErrorList,
) {
    // Start at the earliest wave so the message does not depend on the search order.
    let first = (0..cycle.len())
        .min_by_key(|&i| cycle[i])
        .expect("a cycle has a wave");
    let ordered: Vec<usize> = cycle[first..]
        .iter()
        .chain(&cycle[..first])
        .copied()
        .collect();
    let successor = ordered.get(1).copied().unwrap_or(ordered[0]);
    let at = dependencies[ordered[0]]
        .iter()
        .find(|d| d.on == successor)
        .map(|d| d.at)
        .expect("consecutive waves of a cycle are linked");
    let message = if ordered.len() == 1 {
        format!(
            "{} depends on itself: remove it from its own `depends_on`",
            label(names, ordered[0])
        )
    } else {
        let chain: Vec<String> = ordered
            .iter()
            .chain(std::iter::once(&ordered[0]))
            .map(|&w| short_label(names, w))
            .collect();
        format!(
            "dependency cycle {} (`x -> y`: x depends on y), so none of these waves can ever start: \
             remove one of these dependencies (a wave without `depends_on` depends on the previous wave)",
            chain.join(" -> ")
        )
    };
    errors.push(at, message);
}

/// "wave `app`", or "wave 3" for a wave without a usable name.
pub(super) fn label(names: &[WaveName], index: usize) -> String {
    match &names[index] {
        Some((name, _)) => format!("wave `{name}`"),
        None => format!("wave {}", index + 1),
    }
}

fn short_label(names: &[WaveName], index: usize) -> String {
    match &names[index] {
        Some((name, _)) => name.clone(),
        None => format!("(wave {})", index + 1),
    }
}

fn known_names(names: &[WaveName]) -> String {
    const SHOWN: usize = 10;
    let mut known: Vec<&str> = Vec::new();
    for (name, _) in names.iter().flatten() {
        if !known.contains(&name.as_str()) {
            known.push(name);
        }
    }
    match known.len() {
        0 => "it has no named waves".to_owned(),
        n if n <= SHOWN => format!("its waves are {}", known.join(", ")),
        n => format!(
            "its waves are {} and {} more",
            known[..SHOWN].join(", "),
            n - SHOWN
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(names: &[&str]) -> Vec<WaveName> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let at = Pos {
                    line: i as u64 + 1,
                    column: 1,
                };
                Some((n.to_string(), at))
            })
            .collect()
    }

    fn edges(lists: &[&[usize]]) -> Vec<Vec<Dependency>> {
        lists
            .iter()
            .map(|l| {
                l.iter()
                    .map(|&on| Dependency {
                        on,
                        at: Pos { line: 1, column: 1 },
                    })
                    .collect()
            })
            .collect()
    }

    fn cycle_messages(names: &[WaveName], deps: &[Vec<Dependency>]) -> Vec<String> {
        let mut errors = ErrorList::new("p.yaml");
        reject_cycles(names, deps, &mut errors);
        errors
            .into_errors()
            .0
            .into_iter()
            .map(|e| e.message)
            .collect()
    }

    #[test]
    fn a_long_chain_is_not_a_cycle_and_does_not_exhaust_the_stack() {
        let n = 20_000;
        let names: Vec<WaveName> = (0..n).map(|_| None).collect();
        let declared: Vec<DeclaredDependencies> = (0..n)
            .map(|_| DeclaredDependencies::Previous { at: Pos::UNKNOWN })
            .collect();
        let mut errors = ErrorList::new("p.yaml");
        let deps = resolve(&names, &declared, &mut errors);
        reject_cycles(&names, &deps, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(
            deps[n - 1],
            vec![Dependency {
                on: n - 2,
                at: Pos::UNKNOWN
            }]
        );
    }

    #[test]
    fn separate_cycles_are_each_reported_from_their_earliest_wave() {
        let names = named(&["a", "b", "c", "d", "e"]);
        // b -> d -> b and c -> e -> c; a depends on both loops but is in neither.
        let deps = edges(&[&[1, 2], &[3], &[4], &[1], &[2]]);
        let messages = cycle_messages(&names, &deps);
        assert_eq!(messages.len(), 2, "{messages:#?}");
        assert!(messages[0].contains("b -> d -> b"), "{}", messages[0]);
        assert!(messages[1].contains("c -> e -> c"), "{}", messages[1]);
    }

    #[test]
    fn a_diamond_is_not_a_cycle() {
        let names = named(&["a", "b", "c", "d"]);
        let deps = edges(&[&[], &[0], &[0], &[1, 2]]);
        assert!(cycle_messages(&names, &deps).is_empty());
    }
}
