//! What the scale benchmark reads from outside its own process: the CPU
//! time of a process (Linux `/proc/PID/stat`), plain HTTP/1.0 to a worker's
//! metrics endpoint and to the simulator's test API, and a counter's sum
//! in Prometheus text.

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// User and system CPU time of a process, in seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CpuTime {
    pub user: f64,
    pub system: f64,
}

/// `/proc` counts CPU time in USER_HZ ticks, 100 a second on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

impl CpuTime {
    /// The CPU time process `pid` has used so far (zero where `/proc` is
    /// missing: not Linux).
    pub fn of_process(pid: u32) -> std::io::Result<CpuTime> {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => Ok(Self::parse(&stat).unwrap_or_default()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && pid == std::process::id() => {
                Ok(CpuTime::default())
            }
            Err(e) => Err(e),
        }
    }

    /// Fields 14 and 15 of `/proc/PID/stat`, counted after the command
    /// name's closing parenthesis (the name itself may hold spaces).
    fn parse(stat: &str) -> Option<CpuTime> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
        Some(CpuTime {
            user: ticks(11)? / TICKS_PER_SECOND,
            system: ticks(12)? / TICKS_PER_SECOND,
        })
    }

    pub fn total(&self) -> f64 {
        self.user + self.system
    }

    pub fn plus(self, other: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user + other.user,
            system: self.system + other.system,
        }
    }

    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user: self.user - earlier.user,
            system: self.system - earlier.system,
        }
    }
}

/// GET `url` (`http://HOST:PORT/PATH`); the body.
pub async fn http_get(url: &str) -> anyhow::Result<String> {
    request("GET", url, "").await
}

/// POST `body` to `base` + `path`; fails unless the answer is 2xx.
pub async fn http_post(base: &str, path: &str, body: &str) -> anyhow::Result<String> {
    request(
        "POST",
        &format!("{}{path}", base.trim_end_matches('/')),
        body,
    )
    .await
}

async fn request(method: &str, url: &str, body: &str) -> anyhow::Result<String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        anyhow::anyhow!("{url} is not an http:// URL; give the address as http://HOST:PORT")
    })?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach {url}: {e}; is it running?"))?;
    let head = format!(
        "{method} /{path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    let (status, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let ok = status
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code.starts_with('2'));
    if !ok {
        anyhow::bail!(
            "{method} {url} answered {}: {body}",
            status.lines().next().unwrap_or("nothing")
        );
    }
    Ok(body.to_owned())
}

/// The sum over every label set of the counter `name` in Prometheus text.
pub fn counter_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_past_a_name_with_spaces() {
        let stat = "42 (a b) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        assert_eq!(
            CpuTime::parse(stat),
            Some(CpuTime {
                user: 2.5,
                system: 0.5
            })
        );
    }

    #[test]
    fn counters_are_summed_over_labels() {
        let text = "# TYPE x counter\nripcord_worker_events_decided_total{queue=\"launch\"} 4\n\
                    ripcord_worker_events_decided_total{queue=\"poll\"} 6\n\
                    ripcord_worker_events_decided_total_other 9\n";
        assert_eq!(
            counter_sum(text, "ripcord_worker_events_decided_total"),
            10.0
        );
    }
}
