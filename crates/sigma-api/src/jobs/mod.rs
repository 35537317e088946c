//! Background work on the Tokio runtime. Jobs stop when the state that
//! started them is dropped.

pub mod heartbeats;
pub mod offline;

use tokio::task::AbortHandle;

/// Aborts a job when dropped.
pub struct JobGuard(pub AbortHandle);

impl Drop for JobGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}
