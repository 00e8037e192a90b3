//! SQLite on-disk formats a v0.3 restore needs: the database header's page size and the WAL
//! (header, frames, salts, cumulative checksums), read incrementally.

use crate::litestream::RestoreError;

/// Length of the SQLite database header.
pub(crate) const DB_HEADER_LEN: usize = 100;
const WAL_HEADER_LEN: usize = 32;
const FRAME_HEADER_LEN: usize = 24;
const WAL_MAGIC_LE: u32 = 0x377F_0682;
const WAL_VERSION: u32 = 3_007_000;

/// The page size of a database file, from its first 100 bytes.
pub(crate) fn db_page_size(header: &[u8]) -> Result<u32, String> {
    if header.len() < DB_HEADER_LEN || !header.starts_with(b"SQLite format 3\0") {
        return Err("not a SQLite database (no `SQLite format 3` header)".into());
    }
    let raw = u16::from_be_bytes([header[16], header[17]]);
    let page_size = if raw == 1 { 65_536 } else { u32::from(raw) };
    if !valid_page_size(page_size) {
        return Err(format!("invalid page size {raw} in the database header"));
    }
    Ok(page_size)
}

fn valid_page_size(n: u32) -> bool {
    (512..=65_536).contains(&n) && n.is_power_of_two()
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from `s`.
fn checksum(data: &[u8], big_endian: bool, [mut s0, mut s1]: [u32; 2]) -> [u32; 2] {
    for pair in data.chunks_exact(8) {
        let word = |i: usize| {
            let b = [pair[i], pair[i + 1], pair[i + 2], pair[i + 3]];
            if big_endian { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) }
        };
        s0 = s0.wrapping_add(word(0)).wrapping_add(s1);
        s1 = s1.wrapping_add(word(4)).wrapping_add(s0);
    }
    [s0, s1]
}

/// The parts of a WAL header that frames are checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WalHeader {
    pub page_size: u32,
    big_endian: bool,
    salt: [u32; 2],
    checksum: [u32; 2],
}

impl WalHeader {
    fn parse(b: &[u8]) -> Result<Self, String> {
        let magic = be32(b, 0);
        if magic & !1 != WAL_MAGIC_LE {
            return Err(format!("bad WAL magic {magic:08x}"));
        }
        if be32(b, 4) != WAL_VERSION {
            return Err(format!("unsupported WAL format version {}", be32(b, 4)));
        }
        let page_size = be32(b, 8);
        if !valid_page_size(page_size) {
            return Err(format!("invalid WAL page size {page_size}"));
        }
        let big_endian = magic & 1 == 1;
        let stored = [be32(b, 24), be32(b, 28)];
        if checksum(&b[..24], big_endian, [0, 0]) != stored {
            return Err("WAL header checksum mismatch".into());
        }
        Ok(WalHeader { page_size, big_endian, salt: [be32(b, 16), be32(b, 20)], checksum: stored })
    }
}

/// A valid frame: page `pgno`, `commit` = database size in pages for a commit frame, else 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub pgno: u32,
    pub commit: u32,
    /// Offset of the page data (after the 24-byte frame header) in the WAL image.
    pub page_offset: u64,
}

/// A WAL image that SQLite would not (fully) accept, at byte `offset` of the image.
#[derive(Debug, Clone)]
pub(crate) struct WalError {
    pub offset: u64,
    pub checksum: bool,
    pub reason: String,
}

impl WalError {
    /// As a typed error naming the object `key` that holds `offset`.
    pub fn into_restore_error(self, key: &str) -> RestoreError {
        let reason = format!("WAL offset {:#x}: {}", self.offset, self.reason);
        if self.checksum {
            RestoreError::Checksum { key: key.to_string(), reason }
        } else {
            RestoreError::corrupt(key, reason)
        }
    }
}

/// What a complete WAL image held.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct WalSummary {
    pub page_size: u32,
    /// Frames belonging to committed transactions.
    pub committed_frames: u64,
    /// Valid frames after the last commit frame (an unfinished transaction; ignored).
    pub uncommitted_frames: u64,
    /// Database size in pages after the last commit, if any.
    pub db_pages: Option<u32>,
}

/// Reads a WAL image fed in arbitrary chunks, checking the header, salts and cumulative
/// checksums. Memory: one frame.
#[derive(Default)]
pub(crate) struct WalScanner {
    header: Option<WalHeader>,
    sum: [u32; 2],
    /// The record being assembled (header, then one frame at a time).
    buf: Vec<u8>,
    /// WAL offset of `buf[0]`.
    pos: u64,
    summary: WalSummary,
}

impl WalScanner {
    pub fn new() -> Self {
        Self::default()
    }

    /// The next bytes of the image; `on_frame` sees every valid frame in order.
    pub fn feed(&mut self, mut data: &[u8], on_frame: &mut impl FnMut(Frame)) -> Result<(), WalError> {
        while !data.is_empty() {
            let want = self.record_len() - self.buf.len();
            let take = want.min(data.len());
            self.buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buf.len() == self.record_len() {
                self.record(on_frame)?;
                self.pos += self.buf.len() as u64;
                self.buf.clear();
            }
        }
        Ok(())
    }

    /// The end of the image: it must hold a header and end on a frame boundary.
    pub fn finish(&self) -> Result<WalSummary, WalError> {
        let Some(header) = self.header else {
            return Err(self.error(false, format!("{} bytes, too short for a WAL header", self.buf.len())));
        };
        if !self.buf.is_empty() {
            return Err(self.error(false, format!("partial frame ({} of {} bytes)", self.buf.len(), self.record_len())));
        }
        Ok(WalSummary { page_size: header.page_size, ..self.summary })
    }

    fn record_len(&self) -> usize {
        self.header.map_or(WAL_HEADER_LEN, |h| FRAME_HEADER_LEN + h.page_size as usize)
    }

    fn error(&self, checksum: bool, reason: String) -> WalError {
        WalError { offset: self.pos, checksum, reason }
    }

    fn record(&mut self, on_frame: &mut impl FnMut(Frame)) -> Result<(), WalError> {
        let Some(header) = self.header else {
            let header =
                WalHeader::parse(&self.buf).map_err(|reason| self.error(reason.contains("checksum"), reason))?;
            self.sum = header.checksum;
            self.header = Some(header);
            return Ok(());
        };
        let b = &self.buf;
        let (pgno, commit) = (be32(b, 0), be32(b, 4));
        if pgno == 0 {
            return Err(self.error(false, "frame for page 0".into()));
        }
        if [be32(b, 8), be32(b, 12)] != header.salt {
            return Err(self.error(true, "frame salt does not match the WAL header".into()));
        }
        let sum = checksum(&b[..8], header.big_endian, self.sum);
        let sum = checksum(&b[FRAME_HEADER_LEN..], header.big_endian, sum);
        if sum != [be32(b, 16), be32(b, 20)] {
            return Err(self.error(true, format!("frame checksum mismatch (page {pgno})")));
        }
        self.sum = sum;
        on_frame(Frame { pgno, commit, page_offset: self.pos + FRAME_HEADER_LEN as u64 });
        self.summary.uncommitted_frames += 1;
        if commit != 0 {
            self.summary.committed_frames += self.summary.uncommitted_frames;
            self.summary.uncommitted_frames = 0;
            self.summary.db_pages = Some(commit);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL image with `frames` (pgno, commit) of `page_size` bytes, checksummed as SQLite does.
    pub(crate) fn wal_image(big_endian: bool, page_size: u32, frames: &[(u32, u32)]) -> Vec<u8> {
        let mut out = Vec::new();
        let magic = WAL_MAGIC_LE | u32::from(big_endian);
        for word in [magic, WAL_VERSION, page_size, 7, 0x1111_2222, 0x3333_4444] {
            out.extend_from_slice(&word.to_be_bytes());
        }
        let mut sum = checksum(&out, big_endian, [0, 0]);
        out.extend_from_slice(&sum[0].to_be_bytes());
        out.extend_from_slice(&sum[1].to_be_bytes());
        for &(pgno, commit) in frames {
            let mut frame = Vec::new();
            for word in [pgno, commit, 0x1111_2222, 0x3333_4444] {
                frame.extend_from_slice(&word.to_be_bytes());
            }
            let page: Vec<u8> = (0..page_size).map(|i| (i as u8) ^ (pgno as u8)).collect();
            sum = checksum(&frame[..8], big_endian, sum);
            sum = checksum(&page, big_endian, sum);
            frame.extend_from_slice(&sum[0].to_be_bytes());
            frame.extend_from_slice(&sum[1].to_be_bytes());
            frame.extend_from_slice(&page);
            out.extend_from_slice(&frame);
        }
        out
    }

    fn scan(image: &[u8], chunk: usize) -> (Result<WalSummary, WalError>, Vec<(u32, u32)>) {
        let mut scanner = WalScanner::new();
        let mut frames = Vec::new();
        for part in image.chunks(chunk) {
            if let Err(e) = scanner.feed(part, &mut |f| frames.push((f.pgno, f.commit))) {
                return (Err(e), frames);
            }
        }
        (scanner.finish(), frames)
    }

    #[test]
    fn reads_both_checksum_word_orders_in_any_chunking() {
        for big_endian in [false, true] {
            let image = wal_image(big_endian, 512, &[(1, 0), (2, 2), (3, 0)]);
            for chunk in [1, 7, 100, image.len()] {
                let (summary, frames) = scan(&image, chunk);
                let summary = summary.expect("valid");
                assert_eq!(frames, [(1, 0), (2, 2), (3, 0)]);
                assert_eq!((summary.committed_frames, summary.uncommitted_frames), (2, 1));
                assert_eq!((summary.page_size, summary.db_pages), (512, Some(2)));
            }
        }
    }

    #[test]
    fn rejects_bad_checksums_salts_and_partial_frames() {
        let image = wal_image(false, 512, &[(1, 1), (2, 2)]);
        let mut bad = image.clone();
        bad[32 + 24 + 536 + 100] ^= 1; // second frame's page
        let (res, frames) = scan(&bad, 4096);
        let err = res.expect_err("checksum");
        assert!(err.checksum && err.offset == 32 + 536, "{err:?}");
        assert_eq!(frames, [(1, 1)]);

        let mut bad = image.clone();
        bad[32 + 8] ^= 1; // first frame's salt
        assert!(scan(&bad, 4096).0.expect_err("salt").reason.contains("salt"));

        let mut bad = image.clone();
        bad[30] ^= 1; // header checksum
        assert!(scan(&bad, 4096).0.expect_err("header").reason.contains("header checksum"));

        let err = scan(&image[..image.len() - 1], 4096).0.expect_err("partial");
        assert!(err.reason.contains("partial frame"), "{err:?}");
        assert!(scan(&[], 1).0.is_err());
    }

    #[test]
    fn database_header_page_size() {
        let mut header = [0u8; 100];
        header[..16].copy_from_slice(b"SQLite format 3\0");
        header[16..18].copy_from_slice(&4096u16.to_be_bytes());
        assert_eq!(db_page_size(&header), Ok(4096));
        header[16..18].copy_from_slice(&1u16.to_be_bytes());
        assert_eq!(db_page_size(&header), Ok(65536));
        header[16..18].copy_from_slice(&1000u16.to_be_bytes());
        assert!(db_page_size(&header).is_err());
        assert!(db_page_size(b"SQLite format 3\0").is_err());
    }
}
