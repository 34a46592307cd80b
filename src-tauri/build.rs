//! Tauri's build step: reads `../tauri.conf.json` (through the `tauri.conf.json` link here),
//! the capabilities and the icons, and generates one `allow-<command>` permission per app
//! command, so `capabilities/main.json` grants exactly the app's own commands.

/// Every command of `src/commands.rs` (the capability lists the same names).
const COMMANDS: &[&str] = &[
    "bootstrap",
    "demo_seed",
    "init",
    "sign_in",
    "sign_out",
    "team_list",
    "team_switch",
    "team_show",
    "site_list",
    "site_mappings",
    "site_settings",
    "site_settings_update",
    "resident_list",
    "resident_search",
    "resident_show",
    "resident_add",
    "resident_update",
    "resident_set_status",
    "resident_terminate",
    "resident_purge",
    "resident_invite",
    "resident_psk_reset",
    "bulk",
    "staff_list",
    "staff_add",
    "staff_update",
    "staff_remove",
    "audit_list",
    "outbox_list",
    "outbox_retry",
    "outbox_discard",
    "conflict_list",
    "conflict_resolve",
    "sync_status",
    "sync_now",
    "sync_config",
    "sync_configure",
    "import_preview",
    "import_commit",
    "export_residents",
];

fn main() {
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build step");
}
