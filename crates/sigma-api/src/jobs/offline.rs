//! Marks agents offline when no heartbeat came for three intervals, and
//! streams the change. The store flips `online` to `offline` in one
//! conditional update, so each transition is recorded once even when
//! several replicas sweep at the same time.

use super::JobGuard;
use crate::events::Events;
use chrono::Utc;
use sigma_store::DynStore;
use sigma_types::FleetEvent;
use std::time::Duration;

pub fn start(store: DynStore, events: Events, every: Duration) -> JobGuard {
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep(&store, &events).await;
        }
    });
    JobGuard(task.abort_handle())
}

/// One pass: returns how many agents went offline.
pub async fn sweep(store: &DynStore, events: &Events) -> usize {
    match store.mark_offline_agents(Utc::now()).await {
        Ok(list) => {
            for t in &list {
                tracing::info!(agent_id = %t.agent_id, hostname = %t.hostname, "agent went offline");
                events.publish(FleetEvent::AgentStatus {
                    agent_id: t.agent_id,
                    vps_id: t.vps_id,
                    hostname: t.hostname.clone(),
                    status: t.status,
                    at: t.at,
                });
            }
            list.len()
        }
        Err(e) => {
            tracing::warn!(error = %e, "offline check failed; trying again later");
            0
        }
    }
}
