//! The window comes back where the person left it (tauri-plugin-window-state). The plugin
//! writes its file only when the app ends cleanly; a front-desk PC is as often switched off,
//! or the app killed, with the window open. So the state is also saved half a second after
//! the last move or resize (one thread waits for the moves to stop; it saves once per pause,
//! not once per event of a drag), on the main thread.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;
use tauri::{Manager, Runtime, WebviewWindow, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// How long the window must stay still before its state is written.
const QUIET: Duration = Duration::from_millis(500);

/// Saves the window state after each pause in moving or resizing `window`.
pub fn save_after_moves<R: Runtime>(window: &WebviewWindow<R>) {
    let (moved, moves) = mpsc::channel::<()>();
    let handle = window.app_handle().clone();
    let spawned = std::thread::Builder::new().name("window-memory".into()).spawn(move || {
        // Ends when the window's event handler (the sender) is dropped with the window.
        while moves.recv().is_ok() {
            loop {
                match moves.recv_timeout(QUIET) {
                    Ok(()) => continue,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            }
            // On the main thread, as the plugin saves at exit: saving reads the window
            // (calls answered by the main thread) while holding the plugin's cache lock, which
            // the exit handler on the main thread takes too — from here it would deadlock.
            let on_main = handle.clone();
            let queued = handle.run_on_main_thread(move || {
                if let Err(e) = on_main.save_window_state(StateFlags::all()) {
                    tracing::warn!("the window's size and position were not saved: {e}");
                }
            });
            if queued.is_err() {
                return; // the event loop has ended
            }
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("the window's size and position will be saved only on exit: {e}");
        return;
    }
    window.on_window_event(move |event| {
        if matches!(event, WindowEvent::Resized(_) | WindowEvent::Moved(_)) {
            let _ = moved.send(());
        }
    });
}
