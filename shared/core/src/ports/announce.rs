//! The announcement port: what Ripcord tells the event bus. The
//! announcements are in [`crate::services::announce`], re-exported here.

use crate::service_error::ServiceError;
use async_trait::async_trait;

pub use crate::services::announce::*;

#[async_trait]
pub trait Announcer: Send + Sync {
    /// Publishes the announcements, in order (batched by the adapter).
    async fn announce(&self, announcements: &[Announcement]) -> Result<(), ServiceError>;
}
