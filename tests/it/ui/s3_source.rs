//! Sources other than the demo: an S3 prefix in a real S3 server (moto on loopback) added
//! through the form, a `litestream.yml` imported through the (scripted) dialog, and a SQLite
//! file given as the command-line argument.

use std::path::Path;

use chronoscope::fleet::sources::SourceConfig;
use chronoscope::ui::Screen;
use chronoscope::ui::dialogs::{DialogPurpose, ScriptedDialogs};
use chronoscope::ui::settings::{STORAGE_KEY, Settings};
use egui_kittest::kittest::Queryable;

use super::kit::{click_menu, databases_in, harness, options, wait_for};
use crate::support::moto::{ACCESS_KEY, Moto, SECRET_KEY};
use crate::support::repo;

/// eframe storage in memory (what eframe writes to `app.ron`).
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

/// A file dropped on the window.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }
    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Upload a v0.5 file replica under `prefix` in S3 layout, with Litestream's metadata.
fn upload_v5(moto: &Moto, bucket: &str, prefix: &str, replica: &Path) {
    for level_dir in std::fs::read_dir(replica.join("ltx")).unwrap().flatten() {
        let level: u8 = level_dir.file_name().to_str().unwrap().parse().unwrap();
        for f in std::fs::read_dir(level_dir.path()).unwrap().flatten() {
            let bytes = std::fs::read(f.path()).unwrap();
            let ms = u64::from_be_bytes(bytes[32..40].try_into().unwrap()) as i64;
            let ts = chrono::DateTime::from_timestamp_millis(ms)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let name = f.file_name().to_str().unwrap().to_owned();
            moto.put(bucket, &format!("{prefix}/{level:04x}/{name}"), bytes, &[("litestream-timestamp".into(), ts)]);
        }
    }
}

#[test]
fn s3_source_added_in_the_form_lists_and_restores_tenants() {
    let moto = Moto::start();
    moto.create_bucket("fleet");
    for t in ["tenant-alpha", "tenant-zeta"] {
        upload_v5(&moto, "fleet", &format!("prod/eu/{t}"), &repo().join("assets/demo").join(t));
    }
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.s3_credentials = Some((ACCESS_KEY.into(), SECRET_KEY.into()));
    let mut h = harness(opts);
    wait_for(&mut h, "demo tenants", |a| a.tenants.loading.is_none());

    h.get_by_label("Add S3 source").click();
    h.run_steps(2);
    for (field, value) in
        [("Bucket/prefix", "s3://fleet/prod"), ("Endpoint", moto.endpoint.as_str()), ("Region", "us-east-1")]
    {
        h.get_by_label(field).focus();
        h.get_by_label(field).type_text(value);
        h.run_steps(1);
    }
    h.get_by_label("Path-style addressing").click();
    h.run_steps(2);
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Add S3 source").click();
    wait_for(&mut h, "S3 tenants", |a| matches!(a.source, SourceConfig::S3 { .. }) && a.tenants.loading.is_none());
    let state = h.state();
    assert_eq!(state.tenants.error, None);
    let names: Vec<_> = state.tenants.rows().iter().map(|r| r.tenant.path.clone()).collect();
    assert_eq!(names, ["eu/tenant-alpha", "eu/tenant-zeta"]);
    let remembered = serde_json::to_string(&state.settings).unwrap();
    assert!(remembered.contains("s3://fleet/prod") && remembered.contains(&moto.endpoint), "{remembered}");
    assert!(
        !remembered.contains(SECRET_KEY) && !remembered.contains(ACCESS_KEY),
        "no secrets in the settings: {remembered}"
    );

    // Remembered through eframe's storage (as the app saves on exit), without secrets; a new
    // app started from the stored settings shows the S3 source again.
    let mut storage = MemoryStorage::default();
    eframe::App::save(h.state_mut(), &mut storage);
    let stored = storage.0.get(STORAGE_KEY).cloned().unwrap_or_default();
    assert!(stored.contains("s3://fleet/prod") && !stored.contains(SECRET_KEY), "{stored}");
    let loaded: Settings = eframe::get_value(&storage, STORAGE_KEY).expect("settings in the storage");
    assert_eq!(loaded, h.state().settings);
    let mut again = options(cache.path());
    again.settings = Some(loaded);
    again.s3_credentials = Some((ACCESS_KEY.into(), SECRET_KEY.into()));
    let mut h2 = harness(again);
    wait_for(&mut h2, "remembered S3 tenants", |a| a.tenants.loading.is_none());
    assert!(matches!(h2.state().source, SourceConfig::S3 { .. }));
    assert_eq!(h2.state().tenants.rows().len(), 2);
    assert!(h2.get_all_by_label_contains("s3://fleet/prod").count() >= 1);
    drop(h2);

    h.get_by_label("tenant-alpha").click();
    wait_for(&mut h, "restore points", |a| matches!(a.restore.catalog, Some(Ok(_))));
    h.get_by_label_contains("level 0:");
    h.get_by_label("Restore latest").click();
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    assert_eq!(h.state().executions.as_ref().unwrap().all().len(), 61);
    assert_eq!(databases_in(cache.path()).len(), 1);
}

#[test]
fn litestream_config_import_and_sqlite_argument() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("litestream.yml");
    let replica = repo().join("assets/demo/tenant-zeta");
    let yml = format!(
        "dbs:\n  - path: /srv/zeta/obelisk.sqlite\n    replica:\n      type: file\n      path: {}\n",
        replica.display()
    );
    std::fs::write(&config, yml).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let mut opts = options(cache.path());
    opts.dialogs = Box::new(ScriptedDialogs::default().with(DialogPurpose::ImportConfig, &config));
    let mut h = harness(opts);
    wait_for(&mut h, "demo tenants", |a| a.tenants.loading.is_none());
    click_menu(&mut h, "File", "Import litestream.yml…");
    wait_for(&mut h, "config tenants", |a| {
        matches!(a.source, SourceConfig::LitestreamConfig { .. }) && a.tenants.loading.is_none()
    });
    let rows: Vec<_> = h.state().tenants.rows().iter().map(|r| r.name.clone()).collect();
    assert_eq!(rows, ["obelisk.sqlite"]);
    assert_eq!(h.state().settings.sources, [SourceConfig::LitestreamConfig { path: config.clone() }]);

    // A folder dropped on the window becomes a source.
    h.input_mut().dropped_files.push(std::sync::Arc::new(Dropped(repo().join("assets/demo/tenant-alpha"))));
    wait_for(&mut h, "dropped folder tenants", |a| {
        matches!(a.source, SourceConfig::Local { .. }) && a.tenants.loading.is_none()
    });
    let rows: Vec<_> = h.state().tenants.rows().iter().map(|r| r.name.clone()).collect();
    assert_eq!(rows, ["tenant-alpha"]);

    // A SQLite file on the command line opens straight into its executions.
    let db = repo().join("tests/fixtures/obelisk/0.41.5/demo.sqlite");
    let mut opts = options(cache.path());
    opts.open = Some(db.display().to_string());
    let mut h = harness(opts);
    wait_for(&mut h, "executions", |a| a.executions.is_some());
    assert_eq!(h.state().screen, Screen::Executions);
    assert!(!h.state().executions.as_ref().unwrap().all().is_empty());
    assert_eq!(h.state().breadcrumb_text(), "demo.sqlite › file");
    assert_eq!(h.state().settings.recent_files, [db]);
}
