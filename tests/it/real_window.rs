//! The real app binary in a real X window: a bare Xvfb server (no window manager, so nothing
//! gives the window the keyboard focus), input from `xdotool`, the state read back from the
//! window title (the app's breadcrumb). Where to click comes from the same app laid out by
//! kittest at the same size. Covers what kittest's injected events miss: winit's X11 input
//! path, click-to-focus, and keys pressed faster than frames.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use egui_kittest::kittest::Queryable;

use crate::support::components::demo;
use crate::support::tools;
use crate::ui::kit;

/// wf.panicky of the 0.41.5 demo: 7 steps; step 4 is its `join_next`.
const PANICKY: &str = "E_01M86G6PK39G1R9KFM2F4BW3T9";
/// The app's initial window size (src/ui/mod.rs).
const SIZE: [f32; 2] = [1280.0, 800.0];

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `Xvfb -displayfd 1`: a free display, reported by the server once it accepts clients.
/// `-noreset`: the server does not reset each time its last client (an `xdotool`) leaves.
fn start_xvfb() -> (Killed, String) {
    let mut child = Command::new(tools::xvfb())
        .args(["-displayfd", "1", "-screen", "0", "1600x1000x24", "-nolisten", "tcp", "-noreset"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start Xvfb: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let display = format!(":{}", line.trim());
    assert!(line.trim().parse::<u32>().is_ok(), "Xvfb printed no display number: {line:?}");
    (Killed(child), display)
}

fn xdotool(display: &str, args: &[&str]) -> String {
    let out = Command::new(tools::xdotool()).env("DISPLAY", display).args(args).output().unwrap();
    if !out.status.success() {
        return String::new();
    }
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// The app under test and its X server: their processes, and the file the app's stderr goes to.
struct App {
    child: Killed,
    xvfb: Killed,
    log: PathBuf,
}

impl App {
    /// Why the app cannot be waited for any more (it or its X server exited), with what it printed.
    fn gone(&mut self) -> Option<String> {
        if let Some(status) = self.xvfb.0.try_wait().ok().flatten() {
            return Some(format!("Xvfb exited ({status}); the app printed:\n{}", self.printed()));
        }
        let status = self.child.0.try_wait().ok().flatten()?;
        Some(format!("the app exited ({status}); it printed:\n{}", self.printed()))
    }

    fn printed(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Poll `f` until it returns `Some`, for up to 60 s; fails at once when the app exits.
fn until<T>(app: &mut App, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if let Some(why) = app.gone() {
            panic!("waiting for {what}: {why}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}; the app is running and printed:\n{}",
            app.printed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Wait until the window title ends with `suffix`; returns it.
fn title_ends(app: &mut App, display: &str, window: &str, suffix: &str) -> String {
    let start = Instant::now();
    loop {
        let last = xdotool(display, &["getwindowname", window]);
        if last.ends_with(suffix) {
            return last;
        }
        if let Some(why) = app.gone() {
            panic!("waiting for a title ending with `{suffix}` (last `{last}`): {why}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the title never ended with `{suffix}`: last `{last}`; the app printed:\n{}",
            app.printed()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The centres of the panicky row on the executions screen and of its step 4 row in time
/// travel, as the app lays them out at `SIZE` (kittest, same code and fonts).
fn click_points(db: &Path) -> ([f32; 2], [f32; 2]) {
    let cache = tempfile::tempdir().unwrap();
    let mut opts = kit::options(cache.path());
    opts.open = Some(db.display().to_string());
    let mut h = egui_kittest::Harness::builder()
        .with_size(SIZE)
        .with_pixels_per_point(1.0)
        .with_max_steps(1000)
        .build_eframe(move |cc| chronoscope::ui::App::new(cc, opts));
    kit::wait_for(&mut h, "executions", |a| a.executions.is_some());
    let row = h.get_by_label(PANICKY).rect().center();
    h.get_by_label(PANICKY).click();
    kit::wait_for(&mut h, "the replay", |a| a.timetravel.is_some());
    let step = h.get_by_label("o:1-add for demo:activity/ops.add").rect().center();
    ([row.x, row.y], [step.x, step.y])
}

fn click(display: &str, window: &str, at: [f32; 2]) {
    let (x, y) = (at[0].round().to_string(), at[1].round().to_string());
    xdotool(display, &["mousemove", "--window", window, &x, &y, "click", "1"]);
}

#[test]
fn keys_and_clicks_step_in_a_real_window_without_a_window_manager() {
    let dir = tempfile::tempdir().unwrap();
    let db: PathBuf = dir.path().join("demo.sqlite");
    std::fs::copy(demo(), &db).unwrap();
    let (row, step4) = click_points(&db);

    let (xvfb, display) = start_xvfb();
    let log = dir.path().join("app.log");
    let app = Command::new(env!("CARGO_BIN_EXE_chronoscope"))
        .arg(&db)
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut app = App { child: Killed(app), xvfb, log };
    let window = until(&mut app, "the window", || {
        Some(xdotool(&display, &["search", "--name", "^Chronoscope"])).filter(|w| !w.is_empty())
    });
    let window = window.lines().next().unwrap().to_owned();
    title_ends(&mut app, &display, &window, "demo.sqlite › file");
    // No window manager: X leaves the focus at PointerRoot (xdotool reports no window).
    assert_ne!(xdotool(&display, &["getwindowfocus"]), window);

    // A click on the execution's row opens it; the click also gives the window the focus.
    click(&display, &window, row);
    title_ends(&mut app, &display, &window, &format!("{PANICKY} › step 0/6"));
    assert_eq!(xdotool(&display, &["getwindowfocus"]), window, "the app took the keyboard focus");

    // The arrow keys step, also when pressed faster than frames; Home and End jump.
    xdotool(&display, &["key", "Right"]);
    title_ends(&mut app, &display, &window, "step 1/6");
    xdotool(&display, &["key", "--delay", "0", "Right", "Right", "Right"]);
    title_ends(&mut app, &display, &window, "step 4/6");
    xdotool(&display, &["key", "End"]);
    title_ends(&mut app, &display, &window, "step 6/6");
    xdotool(&display, &["key", "Left"]);
    title_ends(&mut app, &display, &window, "step 5/6");
    xdotool(&display, &["key", "Home"]);
    title_ends(&mut app, &display, &window, "step 0/6");

    // A click on a step row selects it.
    click(&display, &window, step4);
    title_ends(&mut app, &display, &window, "step 4/6");
}
