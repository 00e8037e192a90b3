//! Opening a v0.3 object as decompressed bytes: (optional age) ∘ LZ4 frame.
//!
//! Readers returned here fail with an `io::Error` that wraps a [`RestoreError`] naming the key
//! (recover it with [`decode_error`]): store failures, age failures, LZ4 corruption and checksum
//! mismatches stay distinguishable.

use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use lz4_flex::frame::Error as Lz4Error;

use super::keys::AgeIdentities;
use super::lz4::{FrameEnd, Lz4Reader};
use crate::litestream::RestoreError;
use crate::storage::{ReplicaStore, StoreError};

const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";
const LZ4_MAGIC: &[u8] = &[0x04, 0x22, 0x4D, 0x18];

/// Open an object as a stream of decompressed bytes. An age-encrypted object (header
/// `age-encryption.org/v1`) is decrypted with `ids` first; the LZ4 frame's content checksum is
/// verified at its end. Errors name `key`.
pub fn open_decoded<'s>(
    store: &'s dyn ReplicaStore,
    key: &str,
    ids: &AgeIdentities,
) -> Result<Box<dyn Read + Send + 's>, RestoreError> {
    decode(store.open(key)?, key, ids)
}

/// The typed error behind an `io::Error` from a reader of [`open_decoded`] (or a best guess
/// naming `key` for any other `io::Error`).
pub fn decode_error(key: &str, err: io::Error) -> RestoreError {
    let kind = err.kind();
    let Some(inner) = err.get_ref() else {
        return unexplained(key, kind, &err);
    };
    if inner.is::<RestoreError>() {
        if let Some(Ok(typed)) = err.into_inner().map(|inner| inner.downcast::<RestoreError>()) {
            return *typed;
        }
        return RestoreError::corrupt(key, "unreadable error");
    }
    if let Some(tagged) = inner.downcast_ref::<Tagged>() {
        return match tagged.layer {
            Layer::Store => RestoreError::Store(StoreError::io(key, &tagged.source)),
            Layer::Age => {
                RestoreError::Decrypt { key: key.into(), reason: format!("encrypted payload: {}", tagged.source) }
            }
        };
    }
    if let Some(end) = inner.downcast_ref::<FrameEnd>() {
        return RestoreError::corrupt(key, end);
    }
    if let Some(lz4) = inner.downcast_ref::<Lz4Error>() {
        return match lz4 {
            Lz4Error::ContentChecksumError => checksum(key, "LZ4 content checksum (xxh32) mismatch"),
            Lz4Error::BlockChecksumError => checksum(key, "LZ4 block checksum mismatch"),
            Lz4Error::HeaderChecksumError => checksum(key, "LZ4 frame header checksum mismatch"),
            other => RestoreError::corrupt(key, format!("bad LZ4 data ({other})")),
        };
    }
    unexplained(key, kind, &err)
}

fn checksum(key: &str, reason: &str) -> RestoreError {
    RestoreError::Checksum { key: key.into(), reason: reason.into() }
}

fn unexplained(key: &str, kind: io::ErrorKind, err: &io::Error) -> RestoreError {
    if kind == io::ErrorKind::UnexpectedEof {
        RestoreError::corrupt(key, "truncated (unexpected end of data)")
    } else {
        RestoreError::corrupt(key, err)
    }
}

/// Decode already-opened raw object bytes (see [`open_decoded`]).
pub(crate) fn decode<'a>(
    raw: impl Read + Send + 'a,
    key: &str,
    ids: &AgeIdentities,
) -> Result<Box<dyn Read + Send + 'a>, RestoreError> {
    let mut raw = Tag { inner: raw, layer: Layer::Store };
    let mut head = [0u8; AGE_MAGIC.len()];
    let n = read_full(&mut raw, &mut head).map_err(|e| decode_error(key, e))?;
    let head = &head[..n];
    let raw = io::Cursor::new(head.to_vec()).chain(raw);
    let lz4: Box<dyn Read + Send + 'a> = if head == AGE_MAGIC {
        if ids.is_empty() {
            return Err(decrypt(key, "encrypted with age; pass --age-identity FILE"));
        }
        let decryptor = age::Decryptor::new_buffered(BufReader::new(raw)).map_err(|e| age_error(key, e))?;
        let plain = decryptor.decrypt(ids.iter()).map_err(|e| age_error(key, e))?;
        Box::new(Tag { inner: plain, layer: Layer::Age })
    } else if n == 0 {
        return Err(RestoreError::corrupt(key, FrameEnd::Empty));
    } else if !head.starts_with(LZ4_MAGIC) && !LZ4_MAGIC.starts_with(head) {
        let hex: String = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        return Err(RestoreError::corrupt(key, format!("neither an LZ4 frame nor age-encrypted (starts {hex})")));
    } else {
        Box::new(raw)
    };
    Ok(Box::new(Keyed { key: key.to_string(), inner: Lz4Reader::new(lz4) }))
}

fn decrypt(key: &str, reason: impl Into<String>) -> RestoreError {
    RestoreError::Decrypt { key: key.into(), reason: reason.into() }
}

fn age_error(key: &str, err: age::DecryptError) -> RestoreError {
    match err {
        age::DecryptError::NoMatchingKeys => decrypt(key, "no identity matches (wrong --age-identity?)"),
        age::DecryptError::Io(e) => decode_error(key, e),
        other => decrypt(key, other.to_string()),
    }
}

/// Copy a decoded object into `out`: read errors name `key`, write errors name `out_path`.
pub(crate) fn copy_decoded(
    reader: &mut dyn Read,
    key: &str,
    out: &mut dyn Write,
    out_path: &Path,
) -> Result<u64, RestoreError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(decode_error(key, e)),
        };
        out.write_all(&buf[..n]).map_err(|e| RestoreError::output(out_path, e))?;
        total += n as u64;
    }
}

/// Read until `buf` is full or the input ends; the number of bytes read.
pub(crate) fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Which layer an `io::Error` came from.
#[derive(Debug, Clone, Copy)]
enum Layer {
    Store,
    Age,
}

#[derive(Debug, thiserror::Error)]
#[error("{source}")]
struct Tagged {
    layer: Layer,
    source: io::Error,
}

/// Marks the errors of `inner` (unless a lower layer already did).
struct Tag<R> {
    inner: R,
    layer: Layer,
}

impl<R: Read> Read for Tag<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|source| {
            if source.get_ref().is_some_and(|e| e.is::<Tagged>()) {
                source
            } else {
                io::Error::new(source.kind(), Tagged { layer: self.layer, source })
            }
        })
    }
}

/// The outermost reader: every error becomes a [`RestoreError`] naming the key.
struct Keyed<R> {
    key: String,
    inner: R,
}

impl<R: Read> Read for Keyed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            if e.kind() == io::ErrorKind::Interrupted { e } else { io::Error::other(decode_error(&self.key, e)) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::litestream::v3::test_support::{AGE_KEY, Fixture, encrypt_tree};
    use crate::storage::LocalStore;

    const SNAP: &str = "generations/cfa783f4d6a96bd9/snapshots/00000000.snapshot.lz4";

    fn read_all(store: &dyn ReplicaStore, key: &str, ids: &AgeIdentities) -> Result<Vec<u8>, RestoreError> {
        let mut out = Vec::new();
        let mut reader = open_decoded(store, key, ids)?;
        copy_decoded(&mut reader, key, &mut out, Path::new("memory"))?;
        Ok(out)
    }

    #[test]
    fn decodes_a_multi_block_snapshot() {
        let fx = Fixture::extract("fx3b");
        let store = LocalStore::new(fx.path("fx3b/replica"));
        let db = read_all(&store, SNAP, &AgeIdentities::none()).expect("decode");
        assert!(db.len() > 12_000_000, "{}", db.len());
        assert!(db.starts_with(b"SQLite format 3\0"));
        assert_eq!(db.len() % 4096, 0);
    }

    #[test]
    fn age_needs_the_right_identity() {
        let fx = Fixture::extract("fx3b");
        let plain = LocalStore::new(fx.path("fx3b/replica"));
        let enc_root = fx.path("enc");
        encrypt_tree(&fx.path("fx3b/replica"), &enc_root);
        let enc = LocalStore::new(&enc_root);

        let right = AgeIdentities::from_strings(&[AGE_KEY.to_string()]).expect("key");
        let expected = read_all(&plain, SNAP, &AgeIdentities::none()).expect("plain");
        assert_eq!(read_all(&enc, SNAP, &right).expect("decrypted"), expected);

        let err = read_all(&enc, SNAP, &AgeIdentities::none()).expect_err("no key");
        assert!(
            matches!(&err, RestoreError::Decrypt { key, reason } if key == SNAP && reason.contains("--age-identity"))
        );

        use age::secrecy::ExposeSecret;
        let other = age::x25519::Identity::generate().to_string().expose_secret().to_string();
        let wrong = AgeIdentities::from_strings(&[other]).expect("generated key");
        let err = read_all(&enc, SNAP, &wrong).expect_err("wrong key");
        assert!(
            matches!(&err, RestoreError::Decrypt { reason, .. } if reason.contains("no identity matches")),
            "{err}"
        );
    }

    #[test]
    fn corruption_names_the_key() {
        let fx = Fixture::extract("fx3");
        let root = fx.path("fx3/replica");
        let key = "generations/cebec108e499e8f7/wal/00000003_00002050.wal.lz4";
        let path = root.join(key);
        let bytes = std::fs::read(&path).expect("read");
        let store = LocalStore::new(&root);

        let mut flipped = bytes.clone();
        flipped[bytes.len() / 2] ^= 0x40;
        std::fs::write(&path, &flipped).expect("write");
        let err = read_all(&store, key, &AgeIdentities::none()).expect_err("flipped");
        assert!(matches!(&err, RestoreError::Checksum { .. } | RestoreError::Corrupt { .. }), "{err}");
        assert!(err.to_string().starts_with(key), "{err}");

        // Cut right before the end mark: lz4_flex alone would report a clean end.
        std::fs::write(&path, &bytes[..bytes.len() - 8]).expect("write");
        let err = read_all(&store, key, &AgeIdentities::none()).expect_err("truncated");
        assert!(matches!(&err, RestoreError::Corrupt { reason, .. } if reason.contains("truncated")), "{err}");

        std::fs::write(&path, b"").expect("write");
        let err = read_all(&store, key, &AgeIdentities::none()).expect_err("empty");
        assert!(matches!(&err, RestoreError::Corrupt { reason, .. } if reason.contains("empty")), "{err}");

        std::fs::remove_file(&path).expect("remove");
        let err = read_all(&store, key, &AgeIdentities::none()).expect_err("missing");
        assert!(matches!(&err, RestoreError::Store(_)), "{err}");
    }
}
