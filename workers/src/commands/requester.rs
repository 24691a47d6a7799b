//! Who is asking: the one name every CLI command that changes an execution
//! records (`requestedBy` of run, start and cancel, `approvedBy` of
//! approve, and the operator commands), resolved here once.
//!
//! The name is `--requested-by` (or `--approved-by`, or RIPCORD_REQUESTED_BY)
//! when given, else the OS user the process runs as (from the password
//! database, not $USER, which cron, systemd and containers leave unset).
//! On AWS the caller's ARN (STS GetCallerIdentity) follows in parentheses,
//! whichever name was chosen: `alice (arn:aws:sts::123456789012:assumed-role/DR/alice)`.
//! A typed name is a claim; the ARN is what the credentials prove, and what
//! an auditor matches against CloudTrail.

use crate::backend::{BackendArgs, BackendKind};

/// The name to record for whoever runs this command; `backend` is where it
/// acts (none: the embedded backend of `ripcord run`).
pub async fn requester(explicit: Option<&str>, backend: Option<&BackendArgs>) -> String {
    let arn = match backend {
        Some(args) if args.backend == BackendKind::Aws => {
            match ripcord_aws::sts::caller_arn(&args.aws_settings()).await {
                Ok(arn) => Some(arn),
                Err(error) => {
                    tracing::warn!(%error, "the caller's AWS identity is unknown (STS GetCallerIdentity failed); recording the name alone");
                    None
                }
            }
        }
        _ => None,
    };
    compose(explicit, os_user(), arn)
}

/// The OS user of this process: the password database's name for its uid,
/// else $USER or $LOGNAME (a uid without an entry, as in some containers).
fn os_user() -> Option<String> {
    whoami::username().ok().or_else(|| {
        ["USER", "LOGNAME"]
            .into_iter()
            .find_map(|var| std::env::var(var).ok())
    })
}

/// Explicit name > OS user > "unknown", then the ARN in parentheses.
fn compose(explicit: Option<&str>, os_user: Option<String>, arn: Option<String>) -> String {
    let name = explicit
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or(os_user.filter(|n| !n.is_empty()));
    match (name, arn) {
        (Some(name), Some(arn)) => format!("{name} ({arn})"),
        (None, Some(arn)) => arn,
        (Some(name), None) => name,
        (None, None) => "unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sts::123456789012:assumed-role/DR/alice";

    #[test]
    fn an_explicit_name_wins_over_the_os_user() {
        assert_eq!(
            compose(Some("oncall"), Some("alice".into()), None),
            "oncall"
        );
        assert_eq!(compose(Some("  "), Some("alice".into()), None), "alice");
        assert_eq!(compose(None, Some("alice".into()), None), "alice");
        assert_eq!(compose(None, None, None), "unknown");
    }

    #[test]
    fn on_aws_the_arn_follows_the_name() {
        assert_eq!(
            compose(Some("oncall"), Some("alice".into()), Some(ARN.into())),
            format!("oncall ({ARN})")
        );
        assert_eq!(compose(None, None, Some(ARN.into())), ARN);
    }

    #[test]
    fn the_os_user_comes_from_the_os_not_only_user() {
        // The password database answers for the uid the tests run as.
        assert!(whoami::username().is_ok_and(|n| !n.is_empty()));
    }
}
