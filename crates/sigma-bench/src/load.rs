//! A closed-loop load generator: `workers` tasks each send one request,
//! wait for the whole response, and send the next, until the case's
//! request count is used up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One kind of request to measure, cycling through `paths`.
pub struct Case {
    pub name: String,
    pub paths: Vec<String>,
    pub goal_p99_ms: Option<f64>,
    /// For a list: how many VPS the filter matches (its `total`).
    pub matches: Option<i64>,
}

pub struct Measured {
    pub name: String,
    /// The first path, as shown in the report.
    pub example: String,
    pub errors: usize,
    pub first_error: Option<String>,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub per_second: f64,
    pub goal_p99_ms: Option<f64>,
    pub matches: Option<i64>,
    /// CPU time (user + system) the server process spent per request.
    pub server_cpu: Option<Duration>,
}

impl Measured {
    /// The figures of `case` from its successful requests' latencies, timed
    /// over `wall`.
    pub fn from_samples(case: &Case, mut samples: Vec<Duration>, wall: Duration) -> Measured {
        samples.sort_unstable();
        Measured {
            name: case.name.clone(),
            example: case.paths[0].clone(),
            errors: 0,
            first_error: None,
            p50: percentile(&samples, 50.0),
            p99: percentile(&samples, 99.0),
            max: samples.last().copied().unwrap_or_default(),
            per_second: samples.len() as f64 / wall.as_secs_f64(),
            goal_p99_ms: case.goal_p99_ms,
            matches: case.matches,
            server_cpu: None,
        }
    }

    pub fn meets_goal(&self) -> Option<bool> {
        self.goal_p99_ms.map(|g| ms(self.p99) < g && self.errors == 0)
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn urls(base_url: &str, case: &Case) -> Arc<Vec<String>> {
    Arc::new(case.paths.iter().map(|p| format!("{base_url}{p}")).collect())
}

/// The same traffic as [`run`], untimed.
pub async fn warm_up(client: &reqwest::Client, base_url: &str, case: &Case, workers: usize, requests: usize) {
    drive(client, &urls(base_url, case), workers, requests).await;
}

pub async fn run(client: &reqwest::Client, base_url: &str, case: &Case, workers: usize, requests: usize) -> Measured {
    let urls = urls(base_url, case);
    let started = Instant::now();
    let outcome = drive(client, &urls, workers, requests).await;
    let wall = started.elapsed();

    let samples: Vec<Duration> = outcome.iter().flat_map(|o| o.samples.iter().copied()).collect();
    let mut m = Measured::from_samples(case, samples, wall);
    m.errors = outcome.iter().map(|o| o.errors).sum();
    m.first_error = outcome.into_iter().find_map(|o| o.first_error);
    m
}

#[derive(Default)]
struct WorkerOutcome {
    samples: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

async fn drive(client: &reqwest::Client, urls: &Arc<Vec<String>>, workers: usize, total: usize) -> Vec<WorkerOutcome> {
    let next = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let (client, urls, next) = (client.clone(), urls.clone(), next.clone());
            tokio::spawn(async move {
                let mut out = WorkerOutcome { samples: Vec::with_capacity(total / workers + 1), ..Default::default() };
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return out;
                    }
                    let url = &urls[n % urls.len()];
                    let t = Instant::now();
                    let result = match client.get(url).send().await {
                        Ok(r) if r.status().is_success() => r.bytes().await.map(|_| ()).map_err(|e| e.to_string()),
                        Ok(r) => Err(format!("{} from {url}", r.status())),
                        Err(e) => Err(e.to_string()),
                    };
                    let took = t.elapsed();
                    match result {
                        Ok(()) => out.samples.push(took),
                        Err(e) => {
                            out.errors += 1;
                            out.first_error.get_or_insert(e);
                        }
                    }
                }
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(workers);
    for t in tasks {
        outcomes.push(t.await.unwrap_or_default());
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 50.0), Duration::from_millis(50));
        assert_eq!(percentile(&v, 99.0), Duration::from_millis(99));
        assert_eq!(percentile(&v[..1], 99.0), Duration::from_millis(1));
        assert_eq!(percentile(&[], 50.0), Duration::ZERO);
    }
}
