//! Ids asked for within a short window go out as one call.
//!
//! The first caller opens a round and, after the window, closes it and
//! makes the call for every id the round gathered (in chunks no larger
//! than the API takes). Callers that arrive while the round is open add
//! their ids and wait for the same answer; each gets back the items for its
//! own ids. If the first caller goes away before answering, those waiting
//! get a retryable error (their poll is retried) and the next caller opens
//! a new round. No task is spawned and a zero window needs no timer, so it
//! runs on any executor.

use futures_util::future::BoxFuture;
use ripcord::service_error::ServiceError;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use std::time::Duration;
use tokio::sync::watch;

type Answer<T> = Option<Result<Arc<Vec<T>>, ServiceError>>;

pub struct Gather<T> {
    window: Duration,
    max_ids: usize,
    key: fn(&T) -> String,
    open: Mutex<Option<Round<T>>>,
}

struct Round<T> {
    ids: BTreeSet<String>,
    answer: watch::Receiver<Answer<T>>,
}

impl<T: Clone + Send + Sync + 'static> Gather<T> {
    pub fn new(window: Duration, max_ids: usize, key: fn(&T) -> String) -> Self {
        Self {
            window,
            max_ids,
            key,
            open: Mutex::new(None),
        }
    }

    /// The items for `ids`, read together with whatever else is asked for
    /// within the window. `call` reads one chunk of ids; only the call of
    /// the caller that opened the round is used.
    pub async fn get<F>(&self, ids: &[String], call: F) -> Result<Vec<T>, ServiceError>
    where
        F: Fn(Vec<String>) -> BoxFuture<'static, Result<Vec<T>, ServiceError>>,
    {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let (mut answer, lead) = {
            let mut open = self.open.lock().expect("gather lock");
            match open.as_mut() {
                // A round whose leader went away (its step was dropped)
                // answers nobody: start a new one instead.
                Some(round) if round.answer.has_changed().is_ok() => {
                    round.ids.extend(ids.iter().cloned());
                    (round.answer.clone(), None)
                }
                _ => {
                    let (tx, rx) = watch::channel(None);
                    *open = Some(Round {
                        ids: ids.iter().cloned().collect(),
                        answer: rx.clone(),
                    });
                    (rx, Some(tx))
                }
            }
        };
        if let Some(tx) = lead {
            self.run(tx, call).await;
        }
        let done = answer
            .wait_for(Option::is_some)
            .await
            .map_err(|_| gather_lost())?
            .clone()
            .expect("waited for an answer");
        let items = done?;
        let wanted: BTreeSet<&String> = ids.iter().collect();
        Ok(items
            .iter()
            .filter(|item| wanted.contains(&(self.key)(item)))
            .cloned()
            .collect())
    }

    async fn run<F>(&self, tx: watch::Sender<Answer<T>>, call: F)
    where
        F: Fn(Vec<String>) -> BoxFuture<'static, Result<Vec<T>, ServiceError>>,
    {
        if !self.window.is_zero() {
            tokio::time::sleep(self.window).await;
        }
        let ids: Vec<String> = self
            .open
            .lock()
            .expect("gather lock")
            .take()
            .map(|round| round.ids.into_iter().collect())
            .unwrap_or_default();
        let mut items = Vec::new();
        let mut result = Ok(());
        for chunk in ids.chunks(self.max_ids) {
            match call(chunk.to_vec()).await {
                Ok(found) => items.extend(found),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
        }
        let _ = tx.send(Some(result.map(|()| Arc::new(items))));
    }
}

fn gather_lost() -> ServiceError {
    ServiceError {
        service: "ripcord".into(),
        operation: "Describe".into(),
        class: ripcord::service_error::ErrorClass::Transient,
        code: "GatherLost".into(),
        message: "a batched read ended without an answer (the worker is shutting down?); the poll is retried".into(),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn gather() -> Arc<Gather<String>> {
        Arc::new(Gather::new(Duration::from_millis(20), 3, |s: &String| {
            s.clone()
        }))
    }

    #[tokio::test]
    async fn callers_within_the_window_share_one_call_and_get_their_own_items() {
        let g = gather();
        let calls = Arc::new(AtomicUsize::new(0));
        let call = |calls: Arc<AtomicUsize>| {
            move |ids: Vec<String>| -> BoxFuture<'static, Result<Vec<String>, ServiceError>> {
                calls.fetch_add(1, Ordering::SeqCst);
                Box::pin(async move { Ok(ids.into_iter().filter(|i| i != "gone").collect()) })
            }
        };
        let (first, second) = (ids(&["a", "gone"]), ids(&["b"]));
        let (a, b) = tokio::join!(
            g.get(&first, call(calls.clone())),
            g.get(&second, call(calls.clone())),
        );
        assert_eq!(a.unwrap(), vec!["a".to_owned()]);
        assert_eq!(b.unwrap(), vec!["b".to_owned()]);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "one call for both callers");
    }

    #[tokio::test]
    async fn ids_beyond_the_api_maximum_go_out_in_chunks() {
        let g = gather();
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let s = sizes.clone();
        let ids: Vec<String> = (0..7).map(|i| i.to_string()).collect();
        let got = g
            .get(&ids, move |chunk: Vec<String>| -> BoxFuture<'static, _> {
                s.lock().unwrap().push(chunk.len());
                Box::pin(async move { Ok(chunk) })
            })
            .await
            .unwrap();
        assert_eq!(got.len(), 7);
        assert_eq!(*sizes.lock().unwrap(), vec![3, 3, 1]);
    }

    #[tokio::test]
    async fn a_failed_call_fails_every_caller_of_its_round_and_the_next_round_asks_again() {
        let g = gather();
        let fail = |ids: Vec<String>| -> BoxFuture<'static, Result<Vec<String>, ServiceError>> {
            let _ = ids;
            Box::pin(async {
                Err(ServiceError::from_code(
                    "drs",
                    "DescribeRecoveryInstances",
                    "ThrottlingException",
                    "slow down",
                ))
            })
        };
        let (first, second) = (ids(&["a"]), ids(&["b"]));
        let (a, b) = tokio::join!(g.get(&first, fail), g.get(&second, fail));
        assert!(a.is_err() && b.is_err());
        let ok = g
            .get(&["c".into()], |ids: Vec<String>| -> BoxFuture<'static, _> {
                Box::pin(async move { Ok(ids) })
            })
            .await
            .unwrap();
        assert_eq!(ok, vec!["c".to_owned()]);
    }
}
