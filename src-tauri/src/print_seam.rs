//! The e2e build's print seam. A test cannot press "Print" in GTK's print dialog, and WebKit
//! ignores `window.print()` on a page driven by WebDriver, so the e2e build prints on the
//! test's request: when `<RESIDENTDESK_E2E_DIALOGS>/print` names a PDF file, WebKit's own print
//! operation prints the web view — under the page's print stylesheet, as a person's print
//! would — to that file with GTK's "Print to File" printer and no dialog, then writes
//! `<file>.done` (or `<file>.failed` with the error). The test brackets it with the page's
//! `beforeprint`/`afterprint` events, as a print from the web view's own menu does. Only in a
//! build with the cargo feature `e2e`, on Linux.

use gtk::glib;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tauri::{Runtime, WebviewWindow};
use webkit2gtk::PrintOperationExt;

/// Watches the seam's folder from the window's web view (on GTK's main thread).
pub fn install<R: Runtime>(window: &WebviewWindow<R>) {
    let hooked = window.with_webview(|platform| {
        let view: webkit2gtk::WebView = platform.inner();
        glib::timeout_add_local(Duration::from_millis(100), move || {
            if let Some(Some(pdf)) = crate::dialogs::e2e_asked("print") {
                print_to(&view, pdf);
            }
            glib::ControlFlow::Continue
        });
    });
    if let Err(e) = hooked {
        tracing::error!("e2e print seam: cannot reach the web view: {e}");
    }
}

fn print_to(view: &webkit2gtk::WebView, pdf: PathBuf) {
    let settings = gtk::PrintSettings::new();
    settings.set_printer("Print to File");
    settings.set(gtk::PRINT_SETTINGS_OUTPUT_FILE_FORMAT, Some("pdf"));
    settings.set(gtk::PRINT_SETTINGS_OUTPUT_URI, Some(&format!("file://{}", pdf.display())));
    let operation = webkit2gtk::PrintOperation::new(view);
    operation.set_print_settings(&settings);
    let done = pdf.clone();
    operation.connect_finished(move |_| {
        tracing::info!("e2e print seam: printed to {}", done.display());
        mark(&done, "done", "");
    });
    operation.connect_failed(move |_, e| {
        tracing::error!("e2e print seam: printing to {} failed: {e}", pdf.display());
        mark(&pdf, "failed", &e.to_string());
    });
    operation.print();
}

fn mark(pdf: &Path, how: &str, text: &str) {
    let mut name = pdf.as_os_str().to_owned();
    name.push(format!(".{how}"));
    let _ = std::fs::write(PathBuf::from(name), text);
}
