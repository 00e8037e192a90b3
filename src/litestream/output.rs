//! The restore output: a temp file beside the destination that becomes the destination only
//! after verification, and disappears on failure, cancellation or panic.

use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::RestoreError;

/// Temp outputs alive in this process, so that an abrupt exit can still remove them.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    LIVE.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Removes every temp output still alive (and its `.d` spill folder): for a process about to
/// exit without unwinding (a second Ctrl-C), so that no partial output is left behind.
pub fn remove_live_temp_files() {
    for temp in live().drain(..) {
        let _ = fs::remove_file(&temp);
        let _ = fs::remove_dir_all(spill_dir(&temp));
    }
}

/// The folder beside a temp output where large downloads spill.
pub fn spill_dir(temp: &Path) -> PathBuf {
    let mut name = temp.as_os_str().to_owned();
    name.push(".d");
    PathBuf::from(name)
}

/// A temp file beside `dest`, deleted on drop unless [`TempOutput::commit`] renamed it.
pub struct TempOutput {
    dest: PathBuf,
    temp: PathBuf,
    file: Option<File>,
}

impl TempOutput {
    /// Create the temp file. Fails if `dest` exists and `overwrite` is false.
    pub fn create(dest: &Path, overwrite: bool) -> Result<Self, RestoreError> {
        if dest.exists() && !overwrite {
            return Err(RestoreError::output(dest, "already exists (pass --overwrite to replace it)"));
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&dir).map_err(|e| RestoreError::output(&dir, e))?;
        let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "restore".into());
        // Unique per process and call: two restores of the same point may run at once (the
        // app and an upgrade check refreshing the same tenant).
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let temp = dir.join(format!(".{name}.chronoscope-{}-{n}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&temp)
            .map_err(|e| RestoreError::output(&temp, e))?;
        live().push(temp.clone());
        Ok(TempOutput { dest: dest.to_path_buf(), temp, file: Some(file) })
    }

    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("temp output is open until commit")
    }

    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// Flush to disk and close the temp file (before verification opens it).
    pub fn sync(&mut self) -> Result<(), RestoreError> {
        if let Some(f) = self.file.take() {
            f.sync_all().map_err(|e| RestoreError::output(&self.temp, e))?;
        }
        Ok(())
    }

    /// Rename the verified temp file onto the destination.
    pub fn commit(mut self) -> Result<PathBuf, RestoreError> {
        self.sync()?;
        fs::rename(&self.temp, &self.dest).map_err(|e| RestoreError::output(&self.dest, e))?;
        live().retain(|t| *t != self.temp);
        if let Some(dir) = self.dest.parent().filter(|p| !p.as_os_str().is_empty())
            && let Ok(d) = File::open(dir)
        {
            let _ = d.sync_all();
        }
        self.temp = PathBuf::new();
        Ok(self.dest.clone())
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            self.file.take();
            let _ = fs::remove_file(&self.temp);
            live().retain(|t| *t != self.temp);
        }
    }
}
