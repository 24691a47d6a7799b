//! Who may start what: the allow-list of trigger sources and accounts, and
//! the rule that a real recovery needs its confirmation (invariant 6, docs/invariants.md). The
//! verdict is pure; loading the plan is the caller's I/O.

use super::runbook::RunbookTrigger;
use crate::plan::{Mode, Plan};

/// The launch worker's allow-list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TriggerPolicy {
    /// EventBridge sources allowed to start executions. Empty: none is.
    pub sources: Vec<String>,
    /// Accounts allowed to send them. Empty: any account (an event bus
    /// only receives other accounts' events when its policy allows that).
    pub accounts: Vec<String>,
}

/// What to do with a well-formed trigger.
// One verdict per trigger, moved once; boxing the plan would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Start {
        plan: Plan,
        recovery_confirmed: bool,
    },
    Refuse(String),
}

impl TriggerPolicy {
    /// Judges `trigger`; `plan` is the plan it names, as loaded (or why it
    /// could not be).
    pub fn judge(&self, trigger: &RunbookTrigger, plan: Result<Plan, String>) -> Verdict {
        if !self.sources.contains(&trigger.source) {
            let allowed = if self.sources.is_empty() {
                "no source is allowed (set RIPCORD_TRIGGER_SOURCES)".to_owned()
            } else {
                format!("allowed: {}", self.sources.join(", "))
            };
            return Verdict::Refuse(format!(
                "source {:?} is not on the trigger allow-list; {allowed}",
                trigger.source
            ));
        }
        if !self.accounts.is_empty() {
            let account = trigger.account.as_deref().unwrap_or("");
            if !self.accounts.iter().any(|a| a == account) {
                return Verdict::Refuse(format!(
                    "account {account:?} is not on the trigger allow-list; allowed: {}",
                    self.accounts.join(", ")
                ));
            }
        }
        let detail = &trigger.detail;
        if detail.mode == Mode::Recovery && !detail.confirm_recovery {
            return Verdict::Refuse(
                "a recovery trigger must carry \"confirmRecovery\": true; nothing was launched"
                    .to_owned(),
            );
        }
        let plan = match plan {
            Ok(plan) => plan,
            Err(reason) => {
                return Verdict::Refuse(format!("plan {:?}: {reason}", detail.plan));
            }
        };
        if plan.mode != detail.mode {
            return Verdict::Refuse(format!(
                "the trigger asks for a {:?} but plan {:?} is a {:?} plan",
                detail.mode, detail.plan, plan.mode
            ));
        }
        Verdict::Start {
            recovery_confirmed: detail.mode == Mode::Recovery && detail.confirm_recovery,
            plan,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::sample_plan;
    use crate::trigger::runbook::TriggerDetail;

    fn trigger(source: &str, account: &str, mode: Mode, confirm: bool) -> RunbookTrigger {
        RunbookTrigger {
            event_id: "e".into(),
            source: source.into(),
            account: Some(account.into()),
            time: None,
            detail: TriggerDetail {
                plan: "payments".into(),
                mode,
                requested_by: "alice".into(),
                idempotency_key: "k".into(),
                confirm_recovery: confirm,
                reason: None,
            },
        }
    }

    fn policy() -> TriggerPolicy {
        TriggerPolicy {
            sources: vec!["com.example.runbook".into()],
            accounts: vec!["111122223333".into()],
        }
    }

    fn plan(mode: Mode) -> Result<Plan, String> {
        Ok(Plan {
            mode,
            ..sample_plan("payments", 1)
        })
    }

    #[test]
    fn an_allowed_drill_starts() {
        let t = trigger("com.example.runbook", "111122223333", Mode::Drill, false);
        assert!(matches!(
            policy().judge(&t, plan(Mode::Drill)),
            Verdict::Start {
                recovery_confirmed: false,
                ..
            }
        ));
    }

    #[test]
    fn refusals_say_why() {
        let cases = [
            (
                trigger("evil", "111122223333", Mode::Drill, false),
                plan(Mode::Drill),
                "source \"evil\"",
            ),
            (
                trigger("com.example.runbook", "999", Mode::Drill, false),
                plan(Mode::Drill),
                "account \"999\"",
            ),
            (
                trigger("com.example.runbook", "111122223333", Mode::Recovery, false),
                plan(Mode::Recovery),
                "confirmRecovery",
            ),
            (
                trigger("com.example.runbook", "111122223333", Mode::Drill, false),
                plan(Mode::Recovery),
                "is a Recovery plan",
            ),
            (
                trigger("com.example.runbook", "111122223333", Mode::Drill, false),
                Err("no such plan".into()),
                "no such plan",
            ),
        ];
        for (t, p, expected) in cases {
            match policy().judge(&t, p) {
                Verdict::Refuse(reason) => assert!(reason.contains(expected), "{reason}"),
                other => panic!("expected a refusal ({expected}): {other:?}"),
            }
        }
        let nobody = TriggerPolicy::default();
        let t = trigger("com.example.runbook", "111122223333", Mode::Drill, false);
        assert!(
            matches!(nobody.judge(&t, plan(Mode::Drill)), Verdict::Refuse(r) if r.contains("no source"))
        );
    }

    #[test]
    fn a_confirmed_recovery_starts_confirmed() {
        let t = trigger("com.example.runbook", "111122223333", Mode::Recovery, true);
        assert!(matches!(
            policy().judge(&t, plan(Mode::Recovery)),
            Verdict::Start {
                recovery_confirmed: true,
                ..
            }
        ));
    }
}
