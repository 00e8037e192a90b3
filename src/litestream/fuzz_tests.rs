//! Property tests (issue 11): LTX files of both page encodings, randomly damaged, restore the
//! intact replica's bytes or fail naming the damaged file (see [`crate::fuzz_support`]).

use crate::fuzz_support::{check_restores, planned_keys};
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
