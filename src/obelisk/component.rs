//! Components: content digests (`sha256:<hex>` in JSON, 32-byte BLOBs in tables), component types
//! and the `ComponentId` carried by `Created`, `Locked` and backtraces.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::IdError;

/// SHA-256 of a component's `.wasm` file (or of a stored file in `t_file`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentDigest(pub [u8; 32]);

impl ContentDigest {
    /// From a 32-byte BLOB column.
    pub fn from_blob(blob: &[u8]) -> Result<ContentDigest, IdError> {
        let bytes: [u8; 32] = blob.try_into().map_err(|_| {
            IdError::new("digest", &hex(blob), format!("a SHA-256 digest has 32 bytes, this has {}", blob.len()))
        })?;
        Ok(ContentDigest(bytes))
    }

    /// Lower-case hex without the `sha256:` prefix.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl FromStr for ContentDigest {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        const WHAT: &str = "digest";
        let h = s.strip_prefix("sha256:").ok_or_else(|| IdError::new(WHAT, s, "expected the prefix `sha256:`"))?;
        if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(IdError::new(WHAT, s, "expected 64 hex digits after `sha256:`"));
        }
        let mut out = [0u8; 32];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(&h[2 * i..2 * i + 2], 16)
                .map_err(|_| IdError::new(WHAT, s, "expected 64 hex digits after `sha256:`"))?;
        }
        Ok(ContentDigest(out))
    }
}

impl fmt::Display for ContentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex())
    }
}

impl fmt::Debug for ContentDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

serde_as_string!(ContentDigest);

string_enum! {
    /// What a component is (`t_state.component_type`, `ComponentId.component_type`). Exec and JS
    /// activities are `activity`.
    pub enum ComponentType {
        /// A WASM, exec or JS activity.
        Activity => "activity",
        /// A stub activity: its result is written by a workflow or a user.
        ActivityStub => "activity_stub",
        /// A deterministic workflow, replayed from its log.
        Workflow => "workflow",
        /// An HTTP webhook endpoint.
        WebhookEndpoint => "webhook_endpoint",
        /// A cron trigger.
        Cron => "cron",
    }
}

/// The component that ran or will run an execution.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ComponentId {
    pub component_type: ComponentType,
    pub name: String,
    pub component_digest: ContentDigest,
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.component_type, self.name, self.component_digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_parse_and_round_trip() {
        let text = "sha256:b7de01d423b6c333688ddf4de2a69c0d2fe2837bdaa8adad554e8e408b27de06";
        let d: ContentDigest = text.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(d.to_string(), text);
        assert_eq!(ContentDigest::from_blob(&d.0).ok(), Some(d));
        assert!(ContentDigest::from_blob(&[1, 2, 3]).is_err());
        assert!("sha256:b7de".parse::<ContentDigest>().is_err());
        assert!("b7de01d423b6c333688ddf4de2a69c0d2fe2837bdaa8adad554e8e408b27de06".parse::<ContentDigest>().is_err());
    }

    #[test]
    fn component_id_json() {
        let json = r#"{"component_type":"workflow","name":"demo_workflow","component_digest":"sha256:b7de01d423b6c333688ddf4de2a69c0d2fe2837bdaa8adad554e8e408b27de06"}"#;
        let c: ComponentId = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.component_type, ComponentType::Workflow);
        assert_eq!(
            c.to_string(),
            "workflow:demo_workflow:sha256:b7de01d423b6c333688ddf4de2a69c0d2fe2837bdaa8adad554e8e408b27de06"
        );
        assert_eq!(serde_json::to_string(&c).ok().as_deref(), Some(json));
        assert_eq!(ComponentType::from("future_kind"), ComponentType::Other("future_kind".into()));
    }
}
