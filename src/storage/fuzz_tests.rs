//! Property test (issue 11): the litestream.yml parser on randomly damaged real configs never
//! panics; it parses (consistently) or fails naming the file.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::litestream_config::{load_config, replicas_for_db};
use crate::fuzz_support::{mutation, runner};
use crate::litestream::v3::test_support::Fixture;

const CASES: u32 = 256;

#[test]
fn litestream_yml_damaged() {
    let fleet = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fleet");
    let mut files: Vec<PathBuf> = ["v0.3/tenant-gamma", "v0.5/tenant-alpha", "v0.5/tenant-zeta"]
        .iter()
        .map(|t| fleet.join(format!("{t}.litestream.yml")))
        .collect();
    // The writer fixtures' configs: v0.3 lists, age identities, a v0.5 `replica:`.
    let fixtures: Vec<(&str, Fixture)> = ["fx3", "fx3b", "fx5f"].iter().map(|&fx| (fx, Fixture::extract(fx))).collect();
    files.extend(fixtures.iter().map(|(name, fx)| fx.path(&format!("{name}/litestream.yml"))));
    let texts: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).expect("read config")).collect();
    for f in &files {
        assert!(!load_config(f).expect("intact config parses").is_empty(), "{}", f.display());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("litestream.yml");
    let named = path.display().to_string();
    let result = runner(CASES).run(&(0..texts.len(), mutation()), |(i, m)| {
        std::fs::write(&path, m.apply(&texts[i])).expect("write");
        match load_config(&path) {
            Ok(dbs) => {
                let again = load_config(&path).expect("parses twice");
                prop_assert_eq!(format!("{dbs:?}"), format!("{again:?}"));
                for db in &dbs {
                    match replicas_for_db(&path, &db.path, None) {
                        Ok(replicas) => prop_assert!(!replicas.is_empty()),
                        Err(e) => prop_assert!(e.to_string().contains(&named), "{e}"),
                    }
                }
            }
            Err(e) => prop_assert!(e.to_string().contains(&named), "error does not name the file: {e}"),
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
