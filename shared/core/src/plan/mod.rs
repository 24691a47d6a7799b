//! The recovery plan: the YAML file format, its parsing and validation.
//! [`parse_plan`] / [`load_plan`] turn a plan file into the validated [`Plan`]
//! (see `model.rs`) an execution runs, or into every error found, each as
//! `file:line:column: message`.
//!
//! # The plan file
//!
//! ```yaml
//! name: payments-drill
//! mode: drill                 # drill | recovery   (required)
//! region: us-east-1           # required
//! options:                    # all optional
//!   poll_intervals: { pending: 30s, launching: 15s, post_actions: 10s }  # launching: lower it without pushed results
//!   retry: { max_attempts: 8, base_delay: 2s, max_delay: 5m, max_poll_errors: 5 }
//!   execution_timeout: 12h
//!   rto_target: 4h            # the recovery time objective the drill report measures against
//!   split_large_waves: false  # true: a wave over 100 servers is split into parts of <=100
//!   busy_servers: refuse      # another active execution holds a server: refuse | wait
//!   preflight: block          # pre-flight errors: block | warn | off (default: block for a drill, warn for a recovery)
//!   max_replication_lag: 15m  # pre-flight: more lag (or an older newest snapshot) is a finding
//!   recovery_snapshot: latest # latest | { before: "2026-12-01T06:00:00Z" } (waves may override)
//! defaults:                   # optional, applied to every wave that does not set them
//!   launch_timeout: 1h
//!   health_timeout: 15m
//!   action_timeout: 10m
//! waves:
//!   - name: databases
//!     servers:
//!       - s-1234567890abcdef0                          # plain id
//!       - { id: s-1234567890abcdef1, hostname: db-2 }  # with a hostname label
//!       - { id: s-1234567890abcdef2, critical: false } # optional: may fail without failing the wave
//!     depends_on: []            # names of waves; default: the previous wave; [] = none
//!     wait_for_approval: false  # gate: wave waits PENDING until approved
//!     launch_timeout: 30m
//!     health_timeout: 10m
//!     post_launch:
//!       - name: start-db
//!         document: AWS-RunShellScript
//!         parameters: { commands: ["systemctl start postgresql"] }   # value: string or list of strings
//!         timeout: 5m
//!     health_checks:
//!       - ec2_status_ok
//!       - ssm_agent_online
//!       - command: "pg_isready -h localhost"
//!   - name: app
//!     servers: [s-1234567890abcdef3, s-1234567890abcdef4]
//!     health_checks: [ec2_status_ok]
//!   - name: web
//!     select: { tags: { app: payments, tier: web } }   # besides or instead of `servers`
//!     recovery_snapshot: { before: "2026-12-01T06:00:00Z" }
//! ```
//!
//! Rules, each checked with an error pointing at the offending line and column:
//! - `name`, `mode` (`drill` or `recovery`), `region` and `waves` are required;
//!   every wave needs a unique, non-empty `name` and at least one server.
//! - Server ids are DRS source server ids (`s-` and 17 ASCII letters or
//!   digits, DRS' own `SourceServerID` pattern); a server may appear only
//!   once in the whole plan.
//! - A wave holds at most 100 servers (DRS' quota per recovery job), unless
//!   `options.split_large_waves: true`: then a wave `app` of 250 servers runs
//!   as `app (part 1/3)` .. `app (part 3/3)` (84, 83, 83 servers) side by side,
//!   and the waves that depended on `app` depend on all its parts.
//! - A plan has at most 99 waves, counting the parts of split waves.
//! - `depends_on` names other waves; without it a wave depends on the previous
//!   one (the first wave on none). The dependencies must not form a cycle.
//! - Durations are written `30s`, `5m`, `1h 30m` and must be longer than zero;
//!   `retry.max_attempts` and `retry.max_poll_errors` are at least 1.
//! - Health checks are `ec2_status_ok`, `ssm_agent_online` or `{command: "..."}`.
//! - `select: { tags: {k: v, ...} }` takes the DRS source servers carrying
//!   every one of the tags (at least one tag); a wave with it needs no
//!   `servers`. `recovery_snapshot` is `latest` or `{ before: <RFC 3339> }`,
//!   in `options` for every wave, or on a wave (which wins). Both need DRS,
//!   so they are resolved when the plan is submitted (`crate::selection`),
//!   where a selection of no server, or over 100 without
//!   `split_large_waves`, is an error at the selector's line and column.
//!
//! Waves are numbered from 1 in file order (after splitting). YAML syntax
//! errors, unknown fields and values of the wrong type stop the parse at the
//! first one; every other problem is reported together.

mod dependencies;
mod error;
mod health;
mod model;
mod options;
mod parse;
mod raw;
mod select;
mod split;
mod validate;

pub use error::{PlanError, PlanErrors};
pub use model::*;
pub use parse::{load_plan, parse_plan};
pub use split::{part_names, split_waves};
