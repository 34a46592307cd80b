//! The desktop's log: `tracing` events (the core's and the shell's) go to a file rotated
//! daily in the data directory, next to the default database, and to stderr. A release build
//! on Windows has no console, and a front desk has no terminal open: the file is where a
//! failed start, a sync problem or a panic can be read afterwards. The level comes from
//! `RUST_LOG` (default `info`); panics are logged before the default hook prints them.

use std::path::{Path, PathBuf};
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// The log files' name: `residentdesk-desktop.YYYY-MM-DD.log` (the date in UTC, as
/// `tracing-appender` rotates).
const PREFIX: &str = "residentdesk-desktop";
const SUFFIX: &str = "log";

/// How many daily files are kept (the oldest is deleted when a new one starts).
pub const KEEP_FILES: usize = 14;

/// Where the log went.
#[derive(Debug, Clone)]
pub enum LogTarget {
    /// The folder of the rotated files.
    Folder(PathBuf),
    /// No file could be opened there (why); the log goes to stderr only.
    Unavailable { folder: PathBuf, reason: String },
}

impl LogTarget {
    /// The file written today (the newest of ours in the folder), for a person to open.
    pub fn current_file(&self) -> Option<PathBuf> {
        let LogTarget::Folder(dir) = self else { return None };
        newest_log(dir)
    }

    /// What a message box says about the log: the file's path, or why there is none.
    pub fn describe(&self) -> String {
        match self {
            LogTarget::Folder(dir) => match self.current_file() {
                Some(file) => file.display().to_string(),
                None => format!("{} ({PREFIX}.<date>.{SUFFIX})", dir.display()),
            },
            LogTarget::Unavailable { folder, reason } => {
                format!("none: cannot write a log in {} ({reason})", folder.display())
            }
        }
    }
}

/// The log folder: the data directory, where the default database lives (whatever
/// database `--db` opens, so a person finds the log in one known place).
pub fn log_dir() -> PathBuf {
    let db = residentdesk::store::default_database_path();
    db.parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// Installs the subscriber (file + stderr) and the panic hook. Call once, first thing.
pub fn init() -> LogTarget {
    init_in(&log_dir())
}

fn init_in(dir: &Path) -> LogTarget {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter());
    let file = std::fs::create_dir_all(dir).map_err(|e| e.to_string()).and_then(|()| {
        RollingFileAppender::builder()
            .rotation(Rotation::DAILY)
            .filename_prefix(PREFIX)
            .filename_suffix(SUFFIX)
            .max_log_files(KEEP_FILES)
            .build(dir)
            .map_err(|e| e.to_string())
    });
    let target = match file {
        Ok(appender) => {
            // The appender writes synchronously: a start-up failure exits the process right
            // after logging it, and a non-blocking writer's buffer would be lost with it.
            // No colour codes in a file a person opens in Notepad.
            let layer = tracing_subscriber::fmt::layer().with_ansi(false).with_writer(appender).with_filter(filter());
            let _ = tracing_subscriber::registry().with(stderr).with(layer).try_init();
            LogTarget::Folder(dir.to_path_buf())
        }
        Err(reason) => {
            let _ = tracing_subscriber::registry().with(stderr).try_init();
            tracing::warn!("no log file in {}: {reason}", dir.display());
            LogTarget::Unavailable { folder: dir.to_path_buf(), reason }
        }
    };
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let backtrace = std::backtrace::Backtrace::force_capture();
        tracing::error!("panic: {info}\n{backtrace}");
        default_hook(info);
    }));
    target
}

/// The newest `residentdesk-desktop.*.log` in `dir` (names sort by date).
fn newest_log(dir: &Path) -> Option<PathBuf> {
    let prefix = format!("{PREFIX}.");
    let suffix = format!(".{SUFFIX}");
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(&suffix))
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_of_our_files_is_the_current_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in [
            "residentdesk-desktop.2026-11-28.log",
            "residentdesk-desktop.2026-11-30.log",
            "residentdesk-desktop.2026-11-29.log",
            "residentdesk.db",
            "zzz-other.2026-12-01.log",
        ] {
            std::fs::write(dir.path().join(name), "x").expect("write");
        }
        let target = LogTarget::Folder(dir.path().to_path_buf());
        assert_eq!(target.current_file(), Some(dir.path().join("residentdesk-desktop.2026-11-30.log")));
        assert!(target.describe().ends_with("residentdesk-desktop.2026-11-30.log"));
    }

    #[test]
    fn an_unwritable_log_folder_is_said_not_hidden() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("a-file");
        std::fs::write(&file, "x").expect("write");
        // A folder below a regular file cannot be created (even by root).
        let target = init_in(&file.join("logs"));
        let LogTarget::Unavailable { reason, .. } = &target else { panic!("expected no log file: {target:?}") };
        assert!(!reason.is_empty());
        assert!(target.describe().starts_with("none: cannot write a log in"), "{}", target.describe());
    }
}
