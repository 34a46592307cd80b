//! The ResidentDesk desktop binary: opens the database and starts the window.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(e) = residentdesk_desktop::run() {
        eprintln!("residentdesk-desktop: {e}");
        std::process::exit(1);
    }
}
