//! The chaos run's harness (the test is `workers/tests/chaos.rs`): real
//! `ripcord worker` processes on one backend, killed and
//! frozen at random while the simulated DRS, EC2 and SSM throttle, fail,
//! create jobs behind 500s and drop pushed launch results, and the store
//! answers conditional conflicts; then checks from sources the workers do
//! not control (the simulator's own log of calls and jobs, the records in
//! the store, the queues) and a table of what happened.
//!
//! - `config`: the run's size and faults, from `RIPCORD_CHAOS_*`;
//! - `stage`: the backend (the embedded file, or moto and `ripcord sim
//!   serve`), the commands' options, and the simulator's own records;
//! - `drive`: one run, from starting the workers to the verdict;
//! - `load`: the plans, the scenario, and what each execution must end as;
//! - `cluster`: the worker processes, and killing, freezing, restarting them;
//! - `logs`: what the workers' own logs count (redeliveries, injected conflicts);
//! - `observe`: reading the store while the run goes (invariant 1, live);
//! - `operator`: the operator's commands (approve, cancel, retry, skip,
//!   pause, resume), each once the execution allows it;
//! - `verdict`: the checks at the end;
//! - `table`: the printed table.

pub mod cluster;
pub mod config;
pub mod drive;
pub mod load;
pub mod logs;
pub mod observe;
pub mod operator;
pub mod stage;
pub mod table;
pub mod verdict;
