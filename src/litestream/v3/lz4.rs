//! Decoding LZ4 frames strictly.
//!
//! `lz4_flex`'s `FrameDecoder` verifies the content checksum, but it takes an end of input where
//! a block header is expected for the end of the stream (an object cut at a block boundary, or
//! an empty one, would decode "successfully"), and it stops at the end of the first frame.
//! [`FrameCheck`] passes the compressed bytes through while following the frame layout, and
//! fails at an end of input that is not the end of a frame; [`Lz4Reader`] reads every frame.

use std::io::{self, Read};

use lz4_flex::frame::FrameDecoder;

/// The decompressed bytes of all LZ4 frames in `R`, failing on any early end.
pub(crate) struct Lz4Reader<R: Read>(FrameDecoder<FrameCheck<R>>);

impl<R: Read> Lz4Reader<R> {
    pub fn new(inner: R) -> Self {
        Lz4Reader(FrameDecoder::new(FrameCheck::new(inner)))
    }
}

impl<R: Read> Read for Lz4Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let n = self.0.read(buf)?;
            // 0 means the end of a frame; another one may follow.
            if n > 0 || buf.is_empty() || self.0.get_ref().inner_done {
                return Ok(n);
            }
        }
    }
}

const LZ4_MAGIC: u32 = 0x184D_2204;
const FLG_DICT_ID: u8 = 0x01;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_BLOCK_CHECKSUM: u8 = 0x10;

/// The object ends before its LZ4 frame does.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FrameEnd {
    #[error("empty object (no LZ4 frame)")]
    Empty,
    #[error("truncated LZ4 frame (the object ends early)")]
    Truncated,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    /// 4-byte frame magic.
    Magic,
    /// FLG and BD bytes.
    Descriptor,
    /// 4-byte block size, or the 0 end mark.
    BlockSize,
    /// Not a standard LZ4 frame: the decoder reports it; stop following.
    Opaque,
}

impl Field {
    fn len(self) -> usize {
        match self {
            Field::Magic | Field::BlockSize => 4,
            Field::Descriptor => 2,
            Field::Opaque => 0,
        }
    }
}

/// A pass-through reader over LZ4 frame bytes that errors ([`FrameEnd`]) at an early end.
pub(crate) struct FrameCheck<R> {
    inner: R,
    field: Field,
    bytes: [u8; 4],
    filled: usize,
    /// Bytes to pass before the next field (block data, checksums, optional header parts).
    skip: u64,
    flags: u8,
    frames: u64,
    /// The input has ended.
    inner_done: bool,
}

impl<R: Read> FrameCheck<R> {
    pub fn new(inner: R) -> Self {
        FrameCheck {
            inner,
            field: Field::Magic,
            bytes: [0; 4],
            filled: 0,
            skip: 0,
            flags: 0,
            frames: 0,
            inner_done: false,
        }
    }

    fn at_frame_end(&self) -> bool {
        self.field == Field::Opaque || (self.field == Field::Magic && self.filled == 0 && self.skip == 0)
    }

    fn observe(&mut self, mut data: &[u8]) {
        while !data.is_empty() && self.field != Field::Opaque {
            if self.skip > 0 {
                let n = self.skip.min(data.len() as u64);
                self.skip -= n;
                data = &data[n as usize..];
                continue;
            }
            let take = (self.field.len() - self.filled).min(data.len());
            self.bytes[self.filled..self.filled + take].copy_from_slice(&data[..take]);
            self.filled += take;
            data = &data[take..];
            if self.filled == self.field.len() {
                self.filled = 0;
                self.on_field();
            }
        }
    }

    fn on_field(&mut self) {
        let word = u32::from_le_bytes(self.bytes);
        self.field = match self.field {
            Field::Magic if word == LZ4_MAGIC => Field::Descriptor,
            Field::Magic | Field::Opaque => Field::Opaque,
            Field::Descriptor => {
                self.flags = self.bytes[0];
                let optional = |flag: u8, len: u64| if self.flags & flag != 0 { len } else { 0 };
                self.skip = optional(FLG_CONTENT_SIZE, 8) + optional(FLG_DICT_ID, 4) + 1; // + header checksum
                Field::BlockSize
            }
            Field::BlockSize if word == 0 => {
                self.skip = if self.flags & FLG_CONTENT_CHECKSUM != 0 { 4 } else { 0 };
                self.frames += 1;
                Field::Magic
            }
            Field::BlockSize => {
                let checksum = if self.flags & FLG_BLOCK_CHECKSUM != 0 { 4 } else { 0 };
                self.skip = u64::from(word & 0x7FFF_FFFF) + checksum;
                Field::BlockSize
            }
        };
    }
}

impl<R: Read> Read for FrameCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.inner_done = true;
            if self.frames == 0 && self.field == Field::Magic && self.filled == 0 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, FrameEnd::Empty));
            }
            if !self.at_frame_end() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, FrameEnd::Truncated));
            }
        }
        self.observe(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lz4_flex::frame::{BlockSize, FrameEncoder, FrameInfo};
    use std::io::Write;

    /// Like Litestream's objects: independent blocks, content checksum; small blocks here.
    fn frame(data: &[u8]) -> Vec<u8> {
        let info = FrameInfo::new().block_size(BlockSize::Max64KB).content_checksum(true);
        let mut enc = FrameEncoder::with_frame_info(info, Vec::new());
        enc.write_all(data).expect("compress");
        enc.finish().expect("finish")
    }

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Lz4Reader::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    fn pseudo_random(len: usize) -> Vec<u8> {
        let mut x = 0x1234_5678u32;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    }

    #[test]
    fn whole_frames_decode() {
        let data = pseudo_random(200_000);
        assert_eq!(decode(&frame(&data)).expect("decode"), data);
        let mut two = frame(b"abc");
        two.extend(frame(b"def"));
        assert_eq!(decode(&two).expect("two frames"), b"abcdef");
    }

    #[test]
    fn every_early_end_is_an_error() {
        let bytes = frame(&pseudo_random(200_000)); // 4 blocks of 64 KiB
        // Every block boundary (where the decoder alone would stop quietly), and a few others.
        let mut cuts = vec![7, 8, bytes.len() - 8, bytes.len() - 4, bytes.len() - 1];
        let mut at = 7;
        while at + 4 <= bytes.len() {
            let size = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            if size == 0 {
                break;
            }
            at += 4 + (size & 0x7FFF_FFFF) as usize;
            cuts.push(at);
        }
        assert!(cuts.len() > 6);
        for cut in cuts {
            let err = decode(&bytes[..cut]).expect_err(&format!("cut at {cut}"));
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "cut at {cut}: {err}");
        }
        let err = decode(&[]).expect_err("empty");
        assert!(err.to_string().contains("empty"), "{err}");
    }
}
