//! Progress bars for the long commands (import, export, sync, demo seed), drawn with
//! `indicatif` on standard error, and only when standard error is a terminal and `--json`
//! is off: piped or redirected output, and every machine reader, see no bar and no
//! carriage return. The core reports progress through plain callbacks
//! (`app::progress::Progress`, `ImportProgress`, `sync::Progress`); this module turns their
//! numbers into a bar and knows nothing of what they count.

use crate::output::Out;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Whether a bar may be drawn: a person watching a terminal, and no machine output.
pub fn wanted(out: &Out) -> bool {
    !out.json && std::io::stderr().is_terminal()
}

/// One bar (or nothing, when none may be drawn). It clears itself when finished or dropped,
/// so what the command prints afterwards starts on a clean line.
pub struct Bar {
    bar: Option<ProgressBar>,
    unit: &'static str,
}

impl Bar {
    /// A bar for `what` counting `unit`s; `total` when known (else a spinner with a count).
    pub fn new(out: &Out, what: &str, unit: &'static str, total: Option<u64>) -> Bar {
        if !wanted(out) {
            return Bar { bar: None, unit };
        }
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(10));
        bar.set_style(style(total.is_some(), unit));
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar { bar: Some(bar), unit }
    }

    /// No bar (the output it would share a terminal with is the command's own).
    pub fn none() -> Bar {
        Bar { bar: None, unit: "" }
    }

    /// `done` of `total` (a total of 0 or `None` leaves the length as it is).
    pub fn set(&self, done: u64, total: Option<u64>) {
        let Some(bar) = &self.bar else { return };
        if let Some(t) = total.filter(|t| *t > 0) {
            if bar.length() != Some(t) {
                bar.set_length(t);
                bar.set_style(style(true, self.unit));
            }
        }
        bar.set_position(done);
    }

    /// New words beside the same bar (the rows an import has read so far).
    pub fn say(&self, text: String) {
        if let Some(bar) = &self.bar {
            bar.set_message(text);
        }
    }

    /// A new stage of the same work (the sync pass: push, poll, pull).
    pub fn stage(&self, what: &str) {
        if let Some(bar) = &self.bar {
            if bar.message() != what {
                bar.set_message(what.to_string());
                bar.unset_length();
                bar.set_style(style(false, self.unit));
                bar.set_position(0);
            }
        }
    }

    /// Whether this bar is drawn at all.
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}

fn style(known: bool, unit: &str) -> ProgressStyle {
    let template = if known && unit == "bytes" {
        "{spinner} {msg} [{bar:30}] {bytes}/{total_bytes} ({percent}%, {eta} left)".to_string()
    } else if known {
        format!("{{spinner}} {{msg}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} ({{percent}}%, {{eta}} left)")
    } else {
        format!("{{spinner}} {{msg}} {{human_pos}} {unit} ({{elapsed}})")
    };
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()).progress_chars("=> ")
}
