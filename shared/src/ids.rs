//! Identifiers: executions, events, waves and DRS source servers.

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// One run of a plan. Printed first by `ripcord run`; a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ExecutionId(pub Uuid);

impl ExecutionId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }
}

impl fmt::Display for ExecutionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for ExecutionId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// The id of one event. Follow-up events get ids derived from their cause
/// (UUID v5 of the cause's id and their position), so a decision replayed
/// after a crash produces the same ids and consumers can drop the copies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(pub Uuid);

impl EventId {
    pub fn new_random() -> Self {
        Self(Uuid::new_v4())
    }

    /// The id of the `index`-th event derived from this one.
    pub fn derive(&self, label: &str, index: usize) -> Self {
        let name = format!("{label}/{index}");
        Self(Uuid::new_v5(&self.0, name.as_bytes()))
    }

    /// A number in [0, 1) that is fixed for this id and `salt`: the jitter
    /// source for retry delays, so that `decide` stays pure.
    pub fn unit_fraction(&self, salt: u32) -> f64 {
        let bytes = self.0.as_bytes();
        let mut x = u64::from_le_bytes(bytes[0..8].try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"))
            ^ (u64::from(salt)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        // splitmix64 finaliser: spreads the bits evenly
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A wave's number in the plan, counted from 1 as the status JSON shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct WaveNumber(pub u32);

impl WaveNumber {
    /// Position in a `Vec` of waves.
    pub fn index(self) -> usize {
        (self.0 as usize).saturating_sub(1)
    }
    pub fn from_index(index: usize) -> Self {
        Self(index as u32 + 1)
    }
}

impl fmt::Display for WaveNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A DRS source server id: `s-` and 17 lowercase hex characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct SourceServerId(String);

/// Why a string is not a DRS source server id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a DRS source server id: expected `s-` followed by 17 hex characters, e.g. s-1234567890abcdef0"
)]
pub struct BadSourceServerId(pub String);

impl SourceServerId {
    pub fn parse(s: &str) -> Result<Self, BadSourceServerId> {
        let ok = s.len() == 19
            && s.starts_with("s-")
            && s[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadSourceServerId(s.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SourceServerId {
    type Error = BadSourceServerId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SourceServerId> for String {
    fn from(id: SourceServerId) -> Self {
        id.0
    }
}

impl fmt::Display for SourceServerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_server_ids_are_checked() {
        assert!(SourceServerId::parse("s-1234567890abcdef0").is_ok());
        assert!(SourceServerId::parse("s-1234567890abcdef").is_err());
        assert!(SourceServerId::parse("s-1234567890ABCDEF0").is_err());
        assert!(SourceServerId::parse("i-1234567890abcdef0").is_err());
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let id = EventId::new_random();
        assert_eq!(id.derive("x", 0), id.derive("x", 0));
        assert_ne!(id.derive("x", 0), id.derive("x", 1));
        let f = id.unit_fraction(3);
        assert!((0.0..1.0).contains(&f));
        assert_eq!(f, id.unit_fraction(3));
    }
}
