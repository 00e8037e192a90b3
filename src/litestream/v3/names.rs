//! Object keys of a v0.3 replica.

/// One v0.3 object, identified by its key relative to the replica root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V3Object {
    /// `generations/<gen>/snapshots/<index>.snapshot.lz4`
    Snapshot { generation: String, index: u64 },
    /// `generations/<gen>/wal/<index>_<offset>.wal.lz4`
    WalSegment { generation: String, index: u64, offset: u64 },
}

/// Parse a key relative to the replica root (one leading `/` is allowed):
/// `generations/<16 hex gen>/snapshots/<8-16 hex idx>.snapshot.lz4` or
/// `generations/<gen>/wal/<8-16 hex idx>_<8-16 hex off>.wal.lz4`. Anything else (including the
/// file client's `*.tmp` partial writes) is `None`.
pub fn parse_key(key: &str) -> Option<V3Object> {
    let key = key.strip_prefix('/').unwrap_or(key);
    let mut parts = key.split('/');
    let (Some("generations"), Some(generation), Some(kind), Some(file), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if generation.len() != 16 || !is_lower_hex(generation) {
        return None;
    }
    let generation = generation.to_string();
    match kind {
        "snapshots" => {
            let index = parse_hex(file.strip_suffix(".snapshot.lz4")?)?;
            Some(V3Object::Snapshot { generation, index })
        }
        "wal" => {
            let (index, offset) = file.strip_suffix(".wal.lz4")?.split_once('_')?;
            Some(V3Object::WalSegment { generation, index: parse_hex(index)?, offset: parse_hex(offset)? })
        }
        _ => None,
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// 8 to 16 lowercase hex digits (Litestream writes `%08x`; offsets past 4 GiB get more digits).
fn parse_hex(s: &str) -> Option<u64> {
    if !(8..=16).contains(&s.len()) || !is_lower_hex(s) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str = "54d5f478e1d92b83";

    fn seg(index: u64, offset: u64) -> Option<V3Object> {
        Some(V3Object::WalSegment { generation: G.into(), index, offset })
    }

    #[test]
    fn parses_snapshots_and_segments() {
        assert_eq!(
            parse_key(&format!("generations/{G}/snapshots/0000000b.snapshot.lz4")),
            Some(V3Object::Snapshot { generation: G.into(), index: 11 })
        );
        assert_eq!(parse_key(&format!("generations/{G}/wal/00000003_0000d158.wal.lz4")), seg(3, 0xd158));
        assert_eq!(parse_key(&format!("/generations/{G}/wal/00000000_00000000.wal.lz4")), seg(0, 0));
    }

    #[test]
    fn accepts_9_to_16_hex_digits() {
        assert_eq!(parse_key(&format!("generations/{G}/wal/00000001_100000000.wal.lz4")), seg(1, 1 << 32));
        assert_eq!(parse_key(&format!("generations/{G}/wal/00000001_ffffffffffffffff.wal.lz4")), seg(1, u64::MAX));
        assert_eq!(parse_key(&format!("generations/{G}/wal/00000001_1ffffffffffffffff.wal.lz4")), None);
    }

    #[test]
    fn rejects_other_names() {
        for key in [
            format!("generations/{G}/wal/0000001_00000000.wal.lz4"), // 7 digits
            format!("generations/{G}/wal/00000001_00000000.wal.lz4.tmp"),
            format!("generations/{G}/snapshots/00000001.snapshot.lz4.tmp"),
            format!("generations/{G}/snapshots/0000000B.snapshot.lz4"), // uppercase
            format!("generations/{G}/wal/00000001.wal"),                // v0.3.0-0.3.4 layout
            format!("generations/{G}/wal/00000001/00000000.wal.lz4"),
            format!("//generations/{G}/wal/00000001_00000000.wal.lz4"),
            format!("db/generations/{G}/wal/00000001_00000000.wal.lz4"),
            "generations/54d5f478e1d92b8/wal/00000001_00000000.wal.lz4".into(),
            "ltx/0/0000000000000001-0000000000000001.ltx".into(),
        ] {
            assert_eq!(parse_key(&key), None, "{key}");
        }
    }
}
