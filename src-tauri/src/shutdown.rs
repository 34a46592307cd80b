//! The system asking the app to end — SIGTERM when the person logs out or the PC shuts down,
//! SIGINT from a terminal — ends it the way closing its window does, not by dying mid-step:
//! Tauri's exit runs, so the window's size and position are saved (tauri-plugin-window-state
//! writes them on exit), the database lock is released and the open desk is dropped in order.
//! Windows asks a window to close through its own messages, which Tauri already handles.

/// Listens for SIGTERM and SIGINT and asks the app to exit (status 0) on the first.
#[cfg(unix)]
pub fn end_cleanly_on_signal(app: &tauri::AppHandle) {
    use tokio::signal::unix::{signal, SignalKind};
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
            tracing::warn!("cannot listen for SIGTERM/SIGINT: the app will end without saving its window");
            return;
        };
        let which = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!("{which} received: ending as if the window were closed");
        app.exit(0);
    });
}

/// Windows: nothing to add (see the module's doc).
#[cfg(not(unix))]
pub fn end_cleanly_on_signal(_app: &tauri::AppHandle) {}
