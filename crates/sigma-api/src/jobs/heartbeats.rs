//! Coalesced heartbeat writes. Handlers hand heartbeats to a writer task
//! through a bounded queue; the writer stores everything that queued up
//! while it was busy in one transaction (one statement per batch), so the
//! cost per heartbeat falls as load rises. On PostgreSQL several writers
//! store batches side by side, each for its own share of the agents (by
//! agent id), so that no two transactions wait on one agent's row and the
//! database works while the server parses the next requests.

use super::JobGuard;
use crate::events::Events;
use sigma_store::DynStore;
use sigma_store::agents::{HeartbeatOutcome, HeartbeatWrite};
use sigma_types::{AgentStatus, FleetEvent};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;

/// Heartbeats waiting for the writer; a full queue makes handlers wait.
const QUEUE: usize = 8192;
/// The most heartbeats stored in one transaction.
const MAX_BATCH: usize = 2000;
/// Writers side by side on PostgreSQL (SQLite has one writer anyway).
const POSTGRES_WRITERS: usize = 2;

/// Why a heartbeat was not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteError {
    /// The database is unreachable.
    Unavailable,
    /// Anything else (logged by the writer).
    Failed,
    /// The writer is gone (shutting down).
    Stopped,
}

type Reply = oneshot::Sender<Result<HeartbeatOutcome, WriteError>>;

/// What a heartbeat event shows.
pub struct Summary {
    pub cpu_percent: f64,
    pub memory: sigma_types::Usage,
    pub load: sigma_types::LoadAverages,
}

type Queued = (HeartbeatWrite, Summary, Reply);

#[derive(Clone)]
pub struct HeartbeatWriter {
    /// One queue per writer; an agent's heartbeats always take the same one.
    queues: Arc<[mpsc::Sender<Queued>]>,
}

impl HeartbeatWriter {
    pub fn start(store: DynStore, events: Events) -> (HeartbeatWriter, JobGuard) {
        let writers = if store.backend() == "postgres" { POSTGRES_WRITERS } else { 1 };
        let (queues, receivers): (Vec<_>, Vec<_>) = (0..writers).map(|_| mpsc::channel(QUEUE / writers)).unzip();
        // Aborting this task drops the set, which aborts every writer.
        let task = tokio::spawn(async move {
            let mut set = JoinSet::new();
            for rx in receivers {
                set.spawn(run(store.clone(), events.clone(), rx));
            }
            while set.join_next().await.is_some() {}
        });
        (HeartbeatWriter { queues: queues.into() }, JobGuard(task.abort_handle()))
    }

    /// Queues a heartbeat and waits until it is stored.
    pub async fn write(&self, beat: HeartbeatWrite, summary: Summary) -> Result<HeartbeatOutcome, WriteError> {
        // The low bits of a UUIDv7 are random: an even spread over the writers.
        let queue = &self.queues[(beat.agent_id.as_u128() % self.queues.len() as u128) as usize];
        let (reply, answer) = oneshot::channel();
        queue.send((beat, summary, reply)).await.map_err(|_| WriteError::Stopped)?;
        answer.await.map_err(|_| WriteError::Stopped)?
    }
}

async fn run(store: DynStore, events: Events, mut rx: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (writes, waiting): (Vec<_>, Vec<_>) = batch.drain(..).map(|(w, s, r)| (w, (s, r))).unzip();
        match store.record_heartbeats(&writes).await {
            Ok(outcomes) => {
                for ((w, (summary, reply)), outcome) in writes.iter().zip(waiting).zip(outcomes) {
                    if outcome.stored {
                        publish(&events, w, &summary, outcome);
                    }
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, count = writes.len(), "storing heartbeats failed");
                let kind = match e {
                    sigma_store::StoreError::Unavailable(_) => WriteError::Unavailable,
                    _ => WriteError::Failed,
                };
                for (_, reply) in waiting {
                    let _ = reply.send(Err(kind));
                }
            }
        }
    }
}

fn publish(events: &Events, w: &HeartbeatWrite, s: &Summary, outcome: HeartbeatOutcome) {
    if outcome.came_online {
        tracing::info!(agent_id = %w.agent_id, hostname = %w.hostname, "agent came online");
        events.publish(FleetEvent::AgentStatus {
            agent_id: w.agent_id,
            vps_id: outcome.vps_id,
            hostname: w.hostname.clone(),
            status: AgentStatus::Online,
            at: w.at,
        });
    }
    if events.has_subscribers() {
        events.publish(FleetEvent::AgentHeartbeat {
            agent_id: w.agent_id,
            vps_id: outcome.vps_id,
            at: w.at,
            cpu_percent: s.cpu_percent,
            memory: s.memory,
            load: s.load,
        });
    }
}
