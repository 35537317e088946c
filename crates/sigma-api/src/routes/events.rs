//! `GET /api/events`: live fleet events as Server-Sent Events.

use crate::auth::Reader;
use crate::state::AppState;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use sigma_types::FleetEvent;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}

/// Flips to `true` when the server begins to shut down, so that streams end
/// and the graceful shutdown is not held up by them.
#[derive(Clone)]
pub struct Closing(pub watch::Receiver<bool>);

/// Live events: agent status changes (`agent-status`), heartbeats
/// (`agent-heartbeat`), agent enrolment and removal (`agent-changed`) and
/// VPS changes (`vps-changed`), each a JSON `FleetEvent` whose `type` is the
/// event name. A client that falls more than 1024 events behind is
/// disconnected (an `EventSource` reconnects by itself); a comment is sent
/// every 15 seconds to keep idle connections open.
#[utoipa::path(get, path = "/api/events", tag = "events",
    responses((status = 200, description = "An endless `text/event-stream`", content_type = "text/event-stream", body = FleetEvent)))]
async fn events(
    State(state): State<AppState>,
    _: Reader,
    closing: Option<Extension<Closing>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let closing = closing.map(|Extension(c)| c.0);
    Sse::new(stream(state.events.subscribe(), closing)).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

fn stream(
    rx: broadcast::Receiver<Arc<FleetEvent>>,
    closing: Option<watch::Receiver<bool>>,
) -> impl Stream<Item = Result<Event, Infallible>> {
    futures::stream::unfold((rx, closing), |(mut rx, mut closing)| async move {
        let next = match closing.as_mut() {
            Some(c) => tokio::select! {
                next = rx.recv() => next,
                _ = c.wait_for(|closing| *closing) => return None,
            },
            None => rx.recv().await,
        };
        match next {
            Ok(event) => Some((Ok(to_sse(&event)), (rx, closing))),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::info!(missed, "an event stream fell behind and was closed");
                None
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    })
}

fn to_sse(event: &FleetEvent) -> Event {
    let data = serde_json::to_string(event).unwrap_or_else(|_| "{}".into());
    Event::default().event(event.name()).data(data)
}
