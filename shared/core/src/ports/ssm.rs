//! The SSM port: send the post-launch commands, read their invocations and
//! the agents' pings. Its requests and answers are in
//! [`crate::services::ssm`], re-exported here.

use crate::service_error::ServiceError;
use crate::time::Timestamp;
use async_trait::async_trait;

pub use crate::services::ssm::*;

#[async_trait]
pub trait CommandRunner: Send + Sync {
    /// SendCommand; `instance_ids` must hold at most 50 ids.
    async fn send_command(&self, request: &SendCommandRequest)
    -> Result<SentCommand, ServiceError>;

    /// Every invocation of a command (ListCommandInvocations with details).
    async fn list_command_invocations(
        &self,
        command_id: &str,
    ) -> Result<Vec<CommandInvocation>, ServiceError>;

    /// Commands sent at or after `since` with exactly this comment.
    async fn find_commands(
        &self,
        comment: &str,
        since: Timestamp,
    ) -> Result<Vec<SentCommand>, ServiceError>;

    /// Agents of these instances that SSM knows; unknown ids are left out.
    async fn describe_instance_information(
        &self,
        instance_ids: &[String],
    ) -> Result<Vec<AgentInfo>, ServiceError>;
}
