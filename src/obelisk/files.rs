//! The content-addressed file store (`t_file`, 0.39.4+): deployed component `.wasm` files and
//! source files, keyed by their `sha256:` digest.

use super::component::ContentDigest;
use super::db::ObeliskDb;
use super::error::ObeliskError;

impl ObeliskDb {
    /// True when the database has a file store at all (schema 0.39.4+).
    pub fn has_file_store(&self) -> bool {
        self.schema().has_table("t_file")
    }

    /// The stored file with this digest, `None` when it is not stored (or there is no store).
    pub fn stored_file(&self, digest: &ContentDigest) -> Result<Option<Vec<u8>>, ObeliskError> {
        if !self.has_file_store() {
            return Ok(None);
        }
        let rows: Vec<Vec<u8>> = self.query(
            "SELECT content FROM t_file WHERE digest = ?1",
            [digest.to_string()],
            format_args!("reading the stored file {digest}"),
            |r| r.get(0),
        )?;
        Ok(rows.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use crate::obelisk::ContentDigest;
    use crate::obelisk::test_support::{FIXTURE_0_38_3, FIXTURE_0_41_5, open, parse};

    #[test]
    fn the_0_41_5_demo_stores_its_workflow_component() {
        let db = open(FIXTURE_0_41_5);
        let digest: ContentDigest = parse("sha256:e99b5fd8360e28b70bb33ac86afb368fc2482a02cdbf490624a88f571df96b5a");
        let bytes = db.stored_file(&digest).unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|| panic!("stored"));
        assert_eq!((bytes.len(), &bytes[..8]), (2_938_358, &b"\0asm\x0d\0\x01\0"[..]));
        let missing: ContentDigest = parse("sha256:0000000000000000000000000000000000000000000000000000000000000000");
        assert_eq!(db.stored_file(&missing).ok(), Some(None));
        let old = open(FIXTURE_0_38_3);
        assert!(!old.has_file_store());
        assert_eq!(old.stored_file(&digest).ok(), Some(None));
    }
}
