//! The native dialogs, asked from Rust: "Save As" for an export, "Open" for an import, and
//! message boxes. The web view has no dialog or file-system permission (the capability grants
//! only the app's own commands); it asks a command, the command asks the person, and the path
//! the person chose stays in the shell. A cancelled dialog is `None`: nothing happens.
//!
//! The end-to-end tests cannot click a native dialog. In a build with the cargo feature `e2e`
//! (only `cargo xtask e2e|test` turns it on), and only when `RESIDENTDESK_E2E_DIALOGS` names a
//! folder, a dialog takes its answer from a file there instead of asking: `save` or `open`
//! holds the chosen path (an empty file: cancelled), read once and deleted; a message box
//! appends its title and text to `messages` and is not shown. A release build or package has
//! no such code, and `cargo xtask run` builds without the feature.

use std::path::PathBuf;
use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};

/// Asks where to save a CSV file (starting in Downloads, with `suggested` as its name).
pub fn save_csv<R: Runtime>(app: &AppHandle<R>, title: &str, suggested: &str) -> Option<PathBuf> {
    #[cfg(feature = "e2e")]
    if let Some(answer) = e2e::answer("save") {
        return answer;
    }
    let mut dialog = app.dialog().file().set_title(title).add_filter("CSV file", &["csv"]).set_file_name(suggested);
    if let Some(dir) = dirs::download_dir().or_else(dirs::home_dir) {
        dialog = dialog.set_directory(dir);
    }
    dialog.blocking_save_file().and_then(|p| p.into_path().ok())
}

/// Asks which CSV file to open.
pub fn open_csv<R: Runtime>(app: &AppHandle<R>, title: &str) -> Option<PathBuf> {
    #[cfg(feature = "e2e")]
    if let Some(answer) = e2e::answer("open") {
        return answer;
    }
    let mut dialog = app.dialog().file().set_title(title).add_filter("CSV file", &["csv", "txt"]);
    if let Some(dir) = dirs::download_dir().or_else(dirs::home_dir) {
        dialog = dialog.set_directory(dir);
    }
    dialog.blocking_pick_file().and_then(|p| p.into_path().ok())
}

/// Shows an information box and returns at once (the event loop must be running).
pub fn inform<R: Runtime>(app: &AppHandle<R>, title: &str, text: &str) {
    #[cfg(feature = "e2e")]
    if e2e::record(title, text) {
        return;
    }
    app.dialog()
        .message(text)
        .title(title)
        .kind(MessageDialogKind::Info)
        .buttons(MessageDialogButtons::Ok)
        .show(|_| {});
}

/// Shows an error box; `then` runs once the person closed it (the event loop must be running).
pub fn error_then<R: Runtime>(app: &AppHandle<R>, title: &str, text: &str, then: impl FnOnce() + Send + 'static) {
    #[cfg(feature = "e2e")]
    if e2e::record(title, text) {
        then();
        return;
    }
    app.dialog()
        .message(text)
        .title(title)
        .kind(MessageDialogKind::Error)
        .buttons(MessageDialogButtons::Ok)
        .show(move |_| then());
}

/// The seam's answer for `which` once its file is there (the print seam polls for its own:
/// src/print_seam.rs); `None` while the seam is off or the file is not written yet.
#[cfg(all(feature = "e2e", target_os = "linux"))]
pub(crate) fn e2e_asked(which: &str) -> Option<Option<std::path::PathBuf>> {
    let folder = std::env::var_os("RESIDENTDESK_E2E_DIALOGS").filter(|d| !d.is_empty())?;
    std::path::Path::new(&folder).join(which).exists().then(|| e2e::answer(which)).flatten()
}

/// The test seam (see the module's documentation).
#[cfg(feature = "e2e")]
mod e2e {
    use std::io::Write;
    use std::path::PathBuf;

    fn folder() -> Option<PathBuf> {
        std::env::var_os("RESIDENTDESK_E2E_DIALOGS").filter(|d| !d.is_empty()).map(PathBuf::from)
    }

    /// `Some(answer)` when the seam is on: the path in `<folder>/<which>`, `None` (cancelled)
    /// when that file is empty or missing.
    pub fn answer(which: &str) -> Option<Option<PathBuf>> {
        let file = folder()?.join(which);
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        let text = text.trim();
        tracing::info!("e2e dialog seam: {which} answered {text:?}");
        Some((!text.is_empty()).then(|| PathBuf::from(text)))
    }

    /// Appends a message box to `<folder>/messages`; false when the seam is off.
    pub fn record(title: &str, text: &str) -> bool {
        let Some(dir) = folder() else { return false };
        let _ = std::fs::create_dir_all(&dir);
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("messages"))
            .and_then(|mut f| writeln!(f, "{title}\n{text}\n---"));
        written.is_ok()
    }
}
