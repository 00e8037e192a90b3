//! Frame time of the desktop app (not a timed test; `cargo bench --bench ui_frames`).
//!
//! Drives the real `App` through a plain egui `Context` (no window, no GPU: `logic`, `ui` and
//! tessellation, the CPU part of a frame, which is what the app controls) at 1400×900 and prints ms per
//! frame for: 100 000 executions listed (idle and scrolling), and an execution with 50 000
//! events open (idle and stepping with the arrow key every frame). The 50k-event execution is
//! made by copying the demo tenant's restored database and appending lock extensions to one
//! execution's log.

use std::path::Path;
use std::time::{Duration, Instant};

use chronoscope::obelisk::{ExecutionFilter, ExecutionId, ExecutionSummary, JoinSetId, ObeliskDb, Ulid};
use chronoscope::ui::command::Command;
use chronoscope::ui::dialogs::ScriptedDialogs;
use chronoscope::ui::model::executions::ExecutionsModel;
use chronoscope::ui::settings::Settings;
use chronoscope::ui::{App, AppOptions, Screen};
use eframe::App as _;

const LONG: &str = "E_01M86FG84T7PTZM61B89XPESRM";
const EVENTS: usize = 50_000;
const EXECUTIONS: usize = 100_000;

struct Driver {
    ctx: egui::Context,
    frame: eframe::Frame,
    app: App,
}

impl Driver {
    fn new(options: AppOptions) -> Driver {
        let ctx = egui::Context::default();
        let cc = eframe::CreationContext::_new_kittest(ctx.clone());
        let app = App::new(&cc, options);
        Driver { ctx, frame: eframe::Frame::_new_kittest(), app }
    }

    /// One frame with `events` as input; returns its duration.
    fn frame(&mut self, events: Vec<egui::Event>) -> Duration {
        let input = egui::RawInput {
            screen_rect: Some(egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(1400.0, 900.0))),
            events,
            ..Default::default()
        };
        let start = Instant::now();
        self.app.logic(&self.ctx, &mut self.frame);
        let (app, frame) = (&mut self.app, &mut self.frame);
        let output = self.ctx.run_ui(input, |ui| app.ui(ui, frame));
        // What eframe does on the CPU before handing the frame to the GPU.
        let _meshes = self.ctx.tessellate(output.shapes, output.pixels_per_point);
        start.elapsed()
    }

    fn until(&mut self, what: &str, done: impl Fn(&App) -> bool) {
        let start = Instant::now();
        while !done(&self.app) {
            assert!(start.elapsed() < Duration::from_secs(600), "timed out waiting for {what}");
            self.frame(Vec::new());
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Mean and 95th percentile of `n` frames (after 10 warm-up frames).
    fn measure(&mut self, n: usize, mut events: impl FnMut(usize) -> Vec<egui::Event>) -> (f64, f64) {
        for i in 0..10 {
            self.frame(events(i));
        }
        let mut times: Vec<f64> = (0..n).map(|i| self.frame(events(i)).as_secs_f64() * 1000.0).collect();
        times.sort_by(f64::total_cmp);
        (times.iter().sum::<f64>() / n as f64, times[n * 95 / 100])
    }
}

fn key(k: egui::Key) -> egui::Event {
    egui::Event::Key { key: k, physical_key: None, pressed: true, repeat: false, modifiers: egui::Modifiers::NONE }
}

fn scroll(dy: f32) -> Vec<egui::Event> {
    vec![
        egui::Event::PointerMoved(egui::pos2(600.0, 500.0)),
        egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, dy),
            modifiers: egui::Modifiers::NONE,
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Wheel,
        },
    ]
}

/// `n` executions made from the real ones: new top-level IDs, every fifth with two children.
fn executions(real: &[ExecutionSummary], n: usize) -> Vec<ExecutionSummary> {
    let top: Vec<&ExecutionSummary> = real.iter().filter(|e| e.id.is_top_level()).collect();
    let js: JoinSetId = "o:1-bench".parse().expect("a join set ID");
    let mut out = Vec::with_capacity(n);
    let mut i = 0u64;
    while out.len() < n {
        let mut e = top[i as usize % top.len()].clone();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&(1_795_000_000_000u64 + i).to_be_bytes());
        e.id = ExecutionId::top_level(Ulid::from_bytes(bytes));
        if i.is_multiple_of(5) {
            for c in 1..=2 {
                let mut child = e.clone();
                child.id = e.id.child(js.clone(), c);
                out.push(child);
            }
        }
        out.push(e);
        i += 1;
    }
    out.truncate(n);
    out
}

/// A copy of `db` where execution `LONG` has `EVENTS` more events (lock extensions).
/// wf.serial(1, 2) of the 0.41.5 demo: two activity calls, two log lines.
const SERIAL: &str = "E_01M86G6PD8CH6MWG9CWFCJT438";

fn long_database(db: &Path, out: &Path) {
    std::fs::copy(db, out).expect("copy the database");
    let conn = rusqlite::Connection::open(out).expect("open the copy");
    let (json, created_at, last): (String, String, i64) = conn
        .query_row(
            "SELECT (SELECT json_value FROM t_execution_log WHERE execution_id = ?1 AND variant = 'locked' ORDER BY version DESC LIMIT 1),
                    (SELECT created_at FROM t_execution_log WHERE execution_id = ?1 ORDER BY version DESC LIMIT 1),
                    (SELECT max(version) FROM t_execution_log WHERE execution_id = ?1)",
            [LONG],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the execution's last lock");
    let tx = conn.unchecked_transaction().expect("a transaction");
    {
        let mut insert = tx
            .prepare("INSERT INTO t_execution_log (execution_id, created_at, json_value, version, variant) VALUES (?1, ?2, ?3, ?4, 'locked')")
            .expect("prepare");
        for v in 1..=EVENTS as i64 {
            insert.execute(rusqlite::params![LONG, created_at, json, last + v]).expect("insert");
        }
    }
    tx.commit().expect("commit");
}

fn main() {
    let work = tempfile::tempdir().expect("a temp dir");
    let options = |open: Option<String>| AppOptions {
        open,
        demo_dir: chronoscope::cli::demo_dir(),
        cache_dir: work.path().join("cache"),
        component_cache: work.path().join("components"),
        dialogs: Box::new(ScriptedDialogs::default()),
        settings: Some(Settings::default()),
        now: None,
        restore_gate: None,
        rerun_gate: None,
        s3_credentials: None,
    };

    // Restore the demo tenant (through the app), then build the long database from it.
    let mut d = Driver::new(options(None));
    d.until("tenants", |a| a.tenants.loading.is_none() && !a.tenants.rows().is_empty());
    d.app.push(Command::SelectTenant(0));
    d.until("restore points", |a| a.restore.catalog.is_some());
    d.app.push(Command::Restore(chronoscope::litestream::plan::RestoreTarget::Latest));
    d.until("executions", |a| a.executions.is_some());
    let restored = d.app.opened.as_ref().expect("opened").path.clone();
    let long = work.path().join("long.db");
    let t = Instant::now();
    long_database(&restored, &long);
    eprintln!("built {} with {EVENTS} extra events in {:.1} s", long.display(), t.elapsed().as_secs_f64());

    let mut d = Driver::new(options(Some(long.display().to_string())));
    d.until("executions", |a| a.executions.is_some());
    let real =
        ObeliskDb::open(&long).and_then(|db| db.list_executions(&ExecutionFilter::default())).expect("executions");
    let many = executions(&real, EXECUTIONS);
    let t = Instant::now();
    let mut model = ExecutionsModel::new(long.clone(), many);
    let built = t.elapsed();
    let t = Instant::now();
    model.expand_all();
    let expanded = t.elapsed();
    let shown = model.view().len();
    d.app.executions = Some(model);
    d.app.screen = Screen::Executions;
    println!(
        "ui_frames: {EXECUTIONS} executions: model built in {:.1} ms, expand all {:.1} ms ({shown} rows)",
        built.as_secs_f64() * 1e3,
        expanded.as_secs_f64() * 1e3
    );
    let (mean, p95) = d.measure(200, |_| Vec::new());
    println!("ui_frames: {EXECUTIONS} executions listed, idle:      {mean:.2} ms/frame (p95 {p95:.2})");
    let (mean, p95) = d.measure(200, |_| scroll(-400.0));
    println!("ui_frames: {EXECUTIONS} executions listed, scrolling: {mean:.2} ms/frame (p95 {p95:.2})");

    let t = Instant::now();
    d.app.push(Command::OpenExecution(LONG.parse().expect("an execution ID")));
    d.until("the long replay", |a| a.timetravel.is_some());
    let tt = d.app.timetravel.as_ref().expect("time travel");
    let steps = tt.len();
    println!(
        "ui_frames: {LONG} ({steps} steps) loaded and replayed in {:.2} s (worker thread)",
        t.elapsed().as_secs_f64()
    );
    d.app.push(Command::SetStep(steps / 2));
    let (mean, p95) = d.measure(200, |_| Vec::new());
    println!("ui_frames: {steps}-step execution open, idle:     {mean:.2} ms/frame (p95 {p95:.2})");
    let (mean, p95) = d.measure(200, |_| vec![key(egui::Key::ArrowRight)]);
    println!("ui_frames: {steps}-step execution open, stepping: {mean:.2} ms/frame (p95 {p95:.2})");
    let (mean, p95) = d.measure(50, |i| vec![key(if i % 2 == 0 { egui::Key::End } else { egui::Key::Home })]);
    println!("ui_frames: {steps}-step execution open, Home/End: {mean:.2} ms/frame (p95 {p95:.2})");

    let demo41 = work.path().join("demo-0.41.5.sqlite");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/obelisk/0.41.5/demo.sqlite");
    std::fs::copy(&fixture, &demo41).expect("copy the 0.41.5 demo");
    let mut d = Driver::new(options(Some(demo41.display().to_string())));
    d.until("executions", |a| a.executions.is_some());
    source_pane(&mut d);
}

/// The source pane: wf.serial of the real 0.41.5 demo (its component and source are stored),
/// re-executed in the background, then frames with the pane open.
fn source_pane(d: &mut Driver) {
    let t = Instant::now();
    d.app.push(Command::OpenExecution(SERIAL.parse().expect("an execution ID")));
    d.until("the re-execution and its source", |a| {
        a.rerun.as_ref().is_some_and(|r| !r.running() && r.files_task.is_none() && !r.files.is_empty())
    });
    println!(
        "ui_frames: {SERIAL} re-executed and its source read in {:.2} s (background, first compile included)",
        t.elapsed().as_secs_f64()
    );
    let steps = d.app.timetravel.as_ref().expect("time travel").len();
    let (mean, p95) = d.measure(200, |_| Vec::new());
    println!("ui_frames: source pane open, idle:     {mean:.2} ms/frame (p95 {p95:.2})");
    let (mean, p95) = d.measure(200, |i| {
        vec![key(if (i / steps).is_multiple_of(2) { egui::Key::ArrowRight } else { egui::Key::ArrowLeft })]
    });
    println!("ui_frames: source pane open, stepping: {mean:.2} ms/frame (p95 {p95:.2})");
}
