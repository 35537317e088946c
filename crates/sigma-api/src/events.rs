//! Live fleet events for `GET /api/events`: one bounded broadcast channel.
//! A subscriber that falls more than its capacity behind is dropped (its
//! stream ends; browsers' `EventSource` reconnects), never buffered without
//! bound.

use chrono::Utc;
use sigma_types::{FleetEvent, Vps};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Events a subscriber may lag behind before it is dropped.
pub const CAPACITY: usize = 1024;

#[derive(Clone)]
pub struct Events {
    tx: broadcast::Sender<Arc<FleetEvent>>,
}

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl Events {
    /// Sends an event to every subscriber; with none, costs nothing.
    pub fn publish(&self, event: FleetEvent) {
        if self.tx.receiver_count() > 0 {
            let _ = self.tx.send(Arc::new(event));
        }
    }

    /// Whether anyone listens (to skip building events no one reads).
    pub fn has_subscribers(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FleetEvent>> {
        self.tx.subscribe()
    }

    pub fn vps_changed(&self, v: &Vps, action: &str) {
        self.publish(FleetEvent::VpsChanged {
            vps_id: v.id,
            hostname: v.hostname.clone(),
            action: action.to_owned(),
            at: Utc::now(),
        });
    }
}
