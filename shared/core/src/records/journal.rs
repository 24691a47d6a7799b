//! The journal each record keeps: the event ids it has decided and the
//! follow-ups they sent (the outbox a redelivery re-sends).

use crate::event::FollowUp;
use crate::ids::EventId;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Processed event ids, each with the follow-ups its decision sent, so that
/// a redelivered message changes nothing and still re-sends what a crash may
/// have lost (invariants 3 and 4, docs/invariants.md). Bounded: the oldest entries go
/// first; `decide` is also idempotent by state for anything older.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    entries: VecDeque<JournalEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    pub event_id: EventId,
    /// The queued message whose step decided this event inline (a result
    /// of its effects); `None` for the message itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<EventId>,
    pub at: Timestamp,
    pub follow_ups: Vec<FollowUp>,
}

impl Journal {
    /// Event ids kept per record.
    pub const CAPACITY: usize = 256;
    /// Entries that keep their follow-ups. A redelivery comes one visibility
    /// timeout after a crash, long before this many more events decide on
    /// the same record; older outboxes only cost space (a DynamoDB write is
    /// billed per KB).
    pub const OUTBOX_CAPACITY: usize = 64;

    pub fn get(&self, id: EventId) -> Option<&JournalEntry> {
        self.entries.iter().rev().find(|e| e.event_id == id)
    }

    pub fn contains(&self, id: EventId) -> bool {
        self.get(id).is_some()
    }

    pub fn record(&mut self, event_id: EventId, at: Timestamp, follow_ups: Vec<FollowUp>) {
        self.record_caused(event_id, None, at, follow_ups);
    }

    /// Records an event decided inline in the step of message `root`.
    pub fn record_caused(
        &mut self,
        event_id: EventId,
        root: Option<EventId>,
        at: Timestamp,
        follow_ups: Vec<FollowUp>,
    ) {
        if self.contains(event_id) {
            return;
        }
        if self.entries.len() >= Self::CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(JournalEntry {
            event_id,
            root,
            at,
            follow_ups,
        });
        if let Some(old) = self
            .entries
            .len()
            .checked_sub(Self::OUTBOX_CAPACITY + 1)
            .and_then(|i| self.entries.get_mut(i))
        {
            old.follow_ups.clear();
        }
    }

    /// The follow-ups of message `id` and of every event decided inline in
    /// its step: what a redelivery of `id` must send again.
    pub fn follow_ups_of_step(&self, id: EventId) -> Vec<FollowUp> {
        self.entries
            .iter()
            .filter(|e| e.event_id == id || e.root == Some(id))
            .flat_map(|e| e.follow_ups.iter().cloned())
            .collect()
    }

    /// When the latest event recorded here was decided.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.entries.iter().map(|e| e.at).max()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Envelope, Event};
    use crate::ids::ExecutionId;

    fn follow_up(now: Timestamp) -> FollowUp {
        FollowUp {
            envelope: Envelope::new(
                ExecutionId::new_random(),
                None,
                Event::PublishMetrics {},
                now,
            ),
            delay: std::time::Duration::ZERO,
        }
    }

    #[test]
    fn the_journal_is_bounded_and_keeps_recent_outboxes() {
        let now = chrono::Utc::now();
        let mut journal = Journal::default();
        let ids: Vec<EventId> = (0..300).map(|_| EventId::new_random()).collect();
        for id in &ids {
            journal.record(*id, now, vec![follow_up(now)]);
        }
        assert_eq!(journal.len(), Journal::CAPACITY);
        assert!(!journal.contains(ids[0]), "the oldest ids are dropped");
        assert!(journal.contains(ids[299]));
        assert_eq!(journal.follow_ups_of_step(ids[299]).len(), 1);
        let oldest_with_outbox = 300 - Journal::OUTBOX_CAPACITY;
        assert_eq!(journal.follow_ups_of_step(ids[oldest_with_outbox]).len(), 1);
        assert!(
            journal
                .follow_ups_of_step(ids[oldest_with_outbox - 1])
                .is_empty()
        );
    }

    #[test]
    fn a_step_re_sends_the_follow_ups_of_its_inline_results() {
        let now = chrono::Utc::now();
        let mut journal = Journal::default();
        let (message, result, other) = (
            EventId::new_random(),
            EventId::new_random(),
            EventId::new_random(),
        );
        journal.record(message, now, vec![follow_up(now)]);
        journal.record_caused(
            result,
            Some(message),
            now,
            vec![follow_up(now), follow_up(now)],
        );
        journal.record(other, now, vec![follow_up(now)]);
        assert_eq!(journal.follow_ups_of_step(message).len(), 3);
        assert_eq!(journal.follow_ups_of_step(other).len(), 1);
    }
}
