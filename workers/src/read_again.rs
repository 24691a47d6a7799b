//! Pre-flight's DRS reads, made again in place while DRS throttles them or
//! answers a 5xx. A plan of hundreds of servers makes hundreds of reads; in
//! a busy account a share of them fail for a moment, and one failed read
//! should neither leave a server UNCHECKED nor start the whole pre-flight
//! over 30 s later. Reads only: nothing here ever starts a launch.
//!
//! Each read is made again as `ServiceError::read_again_after` says (at
//! most 4 tries, after DRS' Retry-After or 200 ms doubling, at most 2 s
//! apart: the same policy as a DRS listing's pages), and only while the
//! pre-flight's budget lasts (a worker's step has a time limit: a pre-flight
//! that waited out every retry of every read of an account throttled all
//! the time would be given up as hung; once the budget is spent, a failing
//! read fails at once and its fact is UNCHECKED, or the try is asked again
//! by the state machine).

use ripcord::service_error::ServiceError;
use std::future::Future;
use std::time::{Duration, Instant};

/// How long one pre-flight may spend waiting to read again.
pub const BUDGET: Duration = Duration::from_secs(60);

/// Reads made again within one budget.
#[derive(Clone, Copy, Debug)]
pub struct ReadAgain {
    until: Instant,
}

impl ReadAgain {
    /// A budget of `budget` from now.
    pub fn within(budget: Duration) -> Self {
        Self {
            until: Instant::now() + budget,
        }
    }

    /// `read()`, made again while it fails with an error a retry can help
    /// (throttling, a 5xx, the network), up to `READ_TRIES` times and
    /// within the budget.
    pub async fn read<T, Fut>(&self, mut read: impl FnMut() -> Fut) -> Result<T, ServiceError>
    where
        Fut: Future<Output = Result<T, ServiceError>>,
    {
        let mut tries = 1;
        loop {
            match read().await {
                Err(e) => match e.read_again_after(tries) {
                    Some(pause) if Instant::now() + pause <= self.until => {
                        tokio::time::sleep(pause).await;
                        tries += 1;
                    }
                    _ => return Err(e),
                },
                answer => return answer,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ripcord::service_error::{READ_TRIES, ServiceError};
    use std::sync::atomic::{AtomicU32, Ordering};

    fn failing(code: &str) -> ServiceError {
        ServiceError::from_code("drs", "DescribeSourceServers", code, "no")
            .with_retry_after(Duration::ZERO)
    }

    async fn tries_until_answer(again: ReadAgain, fail_first: u32, code: &str) -> (u32, bool) {
        let calls = AtomicU32::new(0);
        let answer = again
            .read(|| async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if n <= fail_first {
                    Err(failing(code))
                } else {
                    Ok(n)
                }
            })
            .await;
        (calls.load(Ordering::SeqCst), answer.is_ok())
    }

    #[tokio::test]
    async fn throttled_and_5xx_reads_are_made_again_up_to_the_tries_and_others_never() {
        let again = ReadAgain::within(BUDGET);
        assert_eq!(
            tries_until_answer(again, 3, "ThrottlingException").await,
            (4, true)
        );
        assert_eq!(
            tries_until_answer(again, 2, "InternalServerException").await,
            (3, true)
        );
        assert_eq!(
            tries_until_answer(again, 9, "ThrottlingException").await,
            (READ_TRIES, false)
        );
        assert_eq!(
            tries_until_answer(again, 9, "AccessDeniedException").await,
            (1, false)
        );
    }

    #[tokio::test]
    async fn once_the_budget_is_spent_a_failing_read_fails_at_once() {
        let spent = ReadAgain::within(Duration::ZERO);
        let calls = AtomicU32::new(0);
        let answer: Result<(), _> = spent
            .read(|| async {
                calls.fetch_add(1, Ordering::SeqCst);
                Err(failing("ThrottlingException").with_retry_after(Duration::from_millis(5)))
            })
            .await;
        assert!(answer.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
