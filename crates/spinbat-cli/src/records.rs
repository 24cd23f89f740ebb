//! Records files: one JSON line per finished (point, solver), kept complete at every
//! moment so that a killed run loses at most the points in flight.
//!
//! * A run appends each record as one `write(2)` of a whole line (`O_APPEND`): a kill
//!   (`SIGKILL`, Ctrl-C, a job scheduler's time limit) cannot split a write to a local
//!   file, so the file always ends on a complete line.
//! * Rewrites (dropping stale or torn lines at the start of a run, sorting into grid order
//!   at its end, `spinbat merge`) go to a temporary file in the same folder, synced, then
//!   renamed over the old one: readers see the old file or the new one, never a mix.
//! * Reading tolerates a torn last line (a crash of the machine, not of spinbat, in the
//!   middle of a write): it is dropped, with a note, and its point runs again.
//!
//! Appending rather than rewriting the whole file after every point keeps the cost of a
//! study of `P` points at `O(P)` bytes written instead of `O(P²)`.

use crate::CliError;
use anyhow::anyhow;
use spinbat::study::PointRecord;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A record with the exact line it was read from (rewrites keep old lines byte for byte).
#[derive(Debug, Clone)]
pub struct Line {
    pub record: PointRecord,
    pub text: String,
}

impl Line {
    /// The line of a new record.
    pub fn of(record: PointRecord) -> Result<Self, CliError> {
        let text = serde_json::to_string(&record).map_err(CliError::runtime)?;
        Ok(Line { record, text })
    }
}

/// The contents of a records file.
#[derive(Debug, Default)]
pub struct Contents {
    pub lines: Vec<Line>,
    /// A last line cut short (dropped).
    pub torn: bool,
    /// The file exists but does not end in a newline, or holds blank lines: rewrite it
    /// before appending.
    pub untidy: bool,
}

/// Reads `path`; a missing file is empty.
///
/// # Errors
/// Exit status 2 when a line other than the last is not a record (the file was not written
/// by `spinbat run`, or was edited): nothing is overwritten then.
pub fn read(path: &Path) -> Result<Contents, CliError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Contents::default()),
        Err(e) => return Err(CliError::runtime(anyhow!("reading records {}: {e}", path.display()))),
    };
    let mut out = Contents { untidy: !text.is_empty() && !text.ends_with('\n'), ..Contents::default() };
    let count = text.lines().count();
    for (k, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            out.untidy = true;
            continue;
        }
        match serde_json::from_str::<PointRecord>(line) {
            Ok(record) => out.lines.push(Line { record, text: line.to_string() }),
            Err(_) if k + 1 == count && !text.ends_with('\n') => out.torn = true,
            Err(e) => {
                return Err(CliError::input(anyhow!(
                    "{}:{}: not a spinbat record ({e}); this file was not written by `spinbat run` or was edited \
                     - move it away or pass --fresh to start over",
                    path.display(),
                    k + 1
                )))
            }
        }
    }
    Ok(out)
}

/// Creates the folder `path` goes into, if missing.
pub fn ensure_parent(path: &Path) -> Result<(), CliError> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => std::fs::create_dir_all(dir)
            .map_err(|e| CliError::runtime(anyhow!("creating the folder {}: {e}", dir.display()))),
        None => Ok(()),
    }
}

/// Writes `lines` to `path` atomically: a temporary file in the same folder, synced, then
/// renamed over `path`.
pub fn write_atomic<'a>(path: &Path, lines: impl IntoIterator<Item = &'a str>) -> Result<(), CliError> {
    let fail = |e: std::io::Error| CliError::runtime(anyhow!("writing {}: {e}", path.display()));
    let tmp = temp_path(path);
    let result = (|| {
        let mut buf = String::new();
        for l in lines {
            buf.push_str(l);
            buf.push('\n');
        }
        let mut f = File::create(&tmp)?;
        f.write_all(buf.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(fail)
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("records");
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Appends records to a file, one whole line per write.
pub struct Appender {
    path: PathBuf,
    file: Mutex<File>,
}

impl Appender {
    /// Opens `path` for appending (creating it).
    pub fn open(path: &Path) -> Result<Self, CliError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| CliError::runtime(anyhow!("opening {}: {e}", path.display())))?;
        Ok(Appender { path: path.to_path_buf(), file: Mutex::new(file) })
    }

    /// Appends `line` and its newline in a single write.
    pub fn append(&self, line: &str) -> Result<(), CliError> {
        let mut buf = String::with_capacity(line.len() + 1);
        buf.push_str(line);
        buf.push('\n');
        let mut file = self.file.lock().map_err(|_| CliError::runtime(anyhow!("records writer poisoned")))?;
        file.write_all(buf.as_bytes()).map_err(|e| CliError::runtime(anyhow!("writing {}: {e}", self.path.display())))
    }
}
