//! What Ripcord exchanges with the services behind its ports, in its own
//! types: the requests it makes of DRS, EC2 and SSM and what they answer,
//! the queue names and messages, the announcements for the event bus. The
//! events carry these values and the records keep some of them, so they sit
//! below both; the traits that carry them are in [`crate::ports`], each of
//! which re-exports its service's values so an adapter imports one module.

pub mod announce;
pub mod calls;
pub mod drs;
pub mod ec2;
pub mod queue;
pub mod ssm;
pub(crate) mod values;
