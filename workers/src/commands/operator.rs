//! `ripcord retry`, `skip`, `pause` and `resume`: the execution and the
//! wave are read, the command checked against them (`ripcord::operator::
//! check`, the function the machine applies again), and only a command that
//! applies is put on the launch queue. A refused one changes nothing and
//! exits non-zero with the reason and what to do.

use super::execution::{existing, send};
use super::inputs::parse_id;
use crate::backend::Backend;
use crate::operator_args::Operation;
use ripcord::operator::check;
use std::process::ExitCode;

/// The exit code of a command that does not apply (`ripcord cleanup`'s
/// refusals too).
pub(super) const REFUSED: u8 = 3;

pub async fn operate(op: Operation<'_>) -> anyhow::Result<ExitCode> {
    let target = op.target;
    let id = parse_id(&target.id)?;
    let backend = Backend::open_existing(&target.backend).await?;
    let store = backend.store();
    let execution = existing(&backend, &target.backend, id).await?;
    let waves = store.load_waves(id).await?;
    let wave = op
        .command
        .wave()
        .and_then(|n| waves.iter().find(|w| w.number == n));
    if let Err(refusal) = check(&execution.record, wave, &op.command) {
        eprintln!(
            "refused: {}\nwhat to do: {}",
            refusal.reason, refusal.what_to_do
        );
        return Ok(ExitCode::from(REFUSED));
    }
    let kind = op.command.kind().as_str().to_ascii_lowercase();
    let by =
        super::requester::requester(target.requested_by.as_deref(), Some(&target.backend)).await;
    let event = op.command.event(&by, op.reason);
    send(&target.backend, id, op.command.wave(), event).await?;
    println!("{kind} requested for {id}; the launch worker applies it (see `ripcord status {id}`)");
    Ok(ExitCode::SUCCESS)
}
