//! Property tests (issue 11): LTX files of both page encodings, randomly damaged, restore the
//! intact replica's bytes or fail naming the damaged file (see [`crate::fuzz_support`]).

use crate::fuzz_support::{Restored, check_restores, planned_keys, restore_into};
use crate::litestream::plan::RestoreTarget;
use crate::litestream::v3::AgeIdentities;
use crate::litestream::v3::test_support::Fixture;

const CASES: u32 = 256;

/// The planned files of a restore of TXID 3 of `fx` plus two files the plan does not read.
fn fuzz_txid3(fx: &str, flags: [u8; 2]) {
    let fixture = Fixture::extract(fx);
    let root = fixture.path(&format!("{fx}/replica"));
    let target = RestoreTarget::Txid(3);
    let mut keys: Vec<String> = planned_keys(&root, &target).into_iter().collect();
    for key in &keys {
        let bytes = std::fs::read(root.join(key)).expect("read");
        assert_eq!(bytes[104..106], flags, "{key}: page encoding");
    }
    keys.push("ltx/0/0000000000000004-0000000000000004.ltx".into());
    keys.push("ltx/0/0000000000000005-0000000000000005.ltx".into());
    check_restores(&root, &target, &AgeIdentities::none(), &keys, CASES);
}

/// Litestream 0.5.0–0.5.15: one LZ4 frame per page (page flags 0x0000).
#[test]
fn ltx_frame_pages_damaged() {
    fuzz_txid3("fx5old", [0, 0]);
}

/// Litestream ≥ 0.5.16: size-prefixed LZ4 blocks (page flags 0x0001).
#[test]
fn ltx_block_pages_damaged() {
    fuzz_txid3("fx5f", [0, 1]);
}

/// Found by `ltx_block_pages_damaged`: in fx5f's snapshot, byte 1071 is the low byte of an LZ4
/// match offset (2) inside a run of equal bytes; offset 1 decodes to the same page, and the LTX
/// checksum covers decompressed pages, so the damage is invisible and harmless: the same bytes.
#[test]
fn an_lz4_offset_that_decodes_to_the_same_page_restores_the_same_bytes() {
    let fixture = Fixture::extract("fx5f");
    let root = fixture.path("fx5f/replica");
    let target = RestoreTarget::Txid(3);
    let intact = tempfile::tempdir().expect("tempdir");
    let baseline = restore_into(&root, &target, &AgeIdentities::none(), intact.path()).expect("intact");
    let path = root.join("ltx/9/0000000000000001-0000000000000002.ltx");
    let mut bytes = std::fs::read(&path).expect("read");
    assert_eq!(bytes[1071], 2, "the match offset's low byte");
    bytes[1071] ^= 3;
    let _put_back = Restored::replace(&path, &bytes);
    let out = tempfile::tempdir().expect("tempdir");
    assert!(restore_into(&root, &target, &AgeIdentities::none(), out.path()).expect("restores") == baseline);
}
