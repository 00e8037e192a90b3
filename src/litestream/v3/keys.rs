//! age X25519 identities for encrypted v0.3 replicas.

use std::path::Path;
use std::str::FromStr;

use age::x25519::Identity;

use crate::litestream::RestoreError;

/// Decryption keys for age-encrypted replicas (Litestream v0.3 `age.identities`).
#[derive(Clone, Default)]
pub struct AgeIdentities(Vec<Identity>);

impl std::fmt::Debug for AgeIdentities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AgeIdentities({} keys)", self.0.len())
    }
}

impl AgeIdentities {
    /// No keys: encrypted objects fail with a [`RestoreError::Decrypt`] asking for one.
    pub fn none() -> Self {
        Self::default()
    }

    /// Read an age identity file: `AGE-SECRET-KEY-1…` lines; blank lines and `#` comments skipped.
    pub fn from_file(path: &Path) -> Result<Self, RestoreError> {
        let location = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| RestoreError::Decrypt { key: location.clone(), reason: format!("cannot read: {e}") })?;
        let mut ids = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            ids.push(
                parse(line).map_err(|reason| RestoreError::Decrypt { key: format!("{location}:{}", n + 1), reason })?,
            );
        }
        if ids.is_empty() {
            return Err(RestoreError::Decrypt { key: location, reason: "no AGE-SECRET-KEY-1 identity in file".into() });
        }
        Ok(AgeIdentities(ids))
    }

    /// Parse `AGE-SECRET-KEY-1…` strings (e.g. from a Litestream config's `age.identities`).
    pub fn from_strings(keys: &[String]) -> Result<Self, RestoreError> {
        let ids = keys.iter().enumerate().map(|(n, key)| {
            parse(key.trim())
                .map_err(|reason| RestoreError::Decrypt { key: format!("age identity #{}", n + 1), reason })
        });
        Ok(AgeIdentities(ids.collect::<Result<_, _>>()?))
    }

    /// True when there is no key.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The identities as the age crate wants them.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn age::Identity> {
        self.0.iter().map(|id| id as &dyn age::Identity)
    }
}

/// One X25519 identity. The error never echoes the (secret) input.
fn parse(s: &str) -> Result<Identity, String> {
    if !s.get(..16).is_some_and(|p| p.eq_ignore_ascii_case("AGE-SECRET-KEY-1")) {
        return Err(
            "not an age X25519 identity (expected AGE-SECRET-KEY-1…; plugin and SSH keys are not supported)".into()
        );
    }
    Identity::from_str(s).map_err(|e| format!("invalid age identity: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AGE-SECRET-KEY-1LV00NLKC2FKE2707JF9YE3FN53FGKQLN4CCW8SNTKDWWS875RFUQSVCVLL";

    #[test]
    fn reads_identity_files_and_strings() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.txt");
        std::fs::write(&path, format!("# created: now\n# public key: age1...\n\n{KEY}\n")).expect("write");
        assert!(!AgeIdentities::from_file(&path).expect("file").is_empty());
        assert!(!AgeIdentities::from_strings(&[KEY.to_string()]).expect("strings").is_empty());
        assert!(AgeIdentities::none().is_empty());
    }

    #[test]
    fn rejects_bad_keys_without_echoing_them() {
        let bad = format!("{}X", &KEY[..KEY.len() - 1]);
        let err = AgeIdentities::from_strings(std::slice::from_ref(&bad)).expect_err("bad checksum");
        assert!(matches!(err, RestoreError::Decrypt { .. }));
        assert!(!err.to_string().contains(&bad[20..]), "{err}");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("key.txt");
        std::fs::write(&path, "# only comments\n").expect("write");
        assert!(AgeIdentities::from_file(&path).is_err());
        std::fs::write(&path, "ssh-ed25519 AAAA\n").expect("write");
        let err = AgeIdentities::from_file(&path).expect_err("ssh");
        assert!(err.to_string().contains("key.txt:1"), "{err}");
    }
}
