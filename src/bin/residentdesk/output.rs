//! Output of the CLI: readable tables, or one JSON document with `--json`; errors on
//! stderr (as `{"error": {...}}` with `--json`).
//!
//! Every `print!`/`println!` of the CLI lands in [`print_stdout`] (the binary's root
//! replaces std's macros): std's own panic when the reader of a pipe has gone
//! (`residentdesk resident list ... | head -1`), where a command line tool should stop
//! quietly.

use residentdesk::AppError;
use serde::Serialize;
use serde_json::json;
use std::io::{ErrorKind, Write};

/// The exit code when standard output's reader has gone: 0, as the CSV export to standard
/// output already did, and as ripgrep, fd and bat do. The reader took what it wanted, so
/// under `set -o pipefail` `residentdesk ... | head -1` still succeeds; a reader that failed
/// reports its own error.
pub const CLOSED_PIPE_EXIT: i32 = 0;

/// Writes to standard output. A closed pipe ends the process at once with
/// [`CLOSED_PIPE_EXIT`] and nothing on stderr; any other write error (a full disk behind a
/// redirection) is reported on stderr and exits 1, as a failure.
pub fn print_stdout(args: std::fmt::Arguments<'_>) {
    let result = std::io::stdout().lock().write_fmt(args);
    if let Err(e) = result {
        stdout_failed(&e);
    }
}

/// Flushes standard output before the process exits (what is buffered short of a newline),
/// with the same handling of a closed pipe.
pub fn flush_stdout() {
    if let Err(e) = std::io::stdout().lock().flush() {
        stdout_failed(&e);
    }
}

fn stdout_failed(e: &std::io::Error) -> ! {
    if e.kind() == ErrorKind::BrokenPipe {
        std::process::exit(CLOSED_PIPE_EXIT);
    }
    print_stderr(format_args!("error: cannot write to standard output: {e}\n"));
    std::process::exit(1);
}

/// Writes to standard error; a closed standard error is ignored (there is nowhere left to
/// say anything, and std's macro would panic).
pub fn print_stderr(args: std::fmt::Arguments<'_>) {
    let _ = std::io::stderr().lock().write_fmt(args);
}

pub struct Out {
    pub json: bool,
}

impl Out {
    /// Prints `value` as JSON, or runs `human` to print it for a person.
    pub fn value<T: Serialize>(&self, value: &T, human: impl FnOnce()) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(text) => println!("{text}"),
                Err(e) => {
                    eprintln!("{{\"error\":{{\"code\":\"internal\",\"message\":\"cannot encode output: {e}\"}}}}")
                }
            }
        } else {
            human();
        }
    }

    pub fn error(&self, e: &AppError) {
        if self.json {
            eprintln!("{}", json!({ "error": e }));
        } else {
            eprintln!("error: {}", e.message);
            let problems = e.details.as_deref().map(|d| d.problems.as_slice()).unwrap_or_default();
            if problems.len() > 1 {
                for p in problems {
                    eprintln!("  - {}: {}", p.field.as_str(), p.message);
                }
            }
        }
    }
}

/// Shortens text to `max` characters for a table cell.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(max - 1).collect::<String>())
    }
}

/// Prints rows under headers with columns padded to their widest cell.
pub fn print_table(headers: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(headers.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
}

/// A random password for a new account, shown once.
pub fn generate_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rng();
    (0..16).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}
