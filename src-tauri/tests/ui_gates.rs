//! The UI opens screens and controls on the core's gates by use-case name (`USE_CASES` in
//! `ui/src/lib/stores.ts`). A name the core's table does not hold, or one `App::use_case_gates`
//! never answers (public and system use cases), would leave a control closed for everyone
//! with "unknown use case": this test fails instead.

use residentdesk::app::usecases::{by_name, Runs};
use std::path::PathBuf;

/// The names between `export const USE_CASES = [` and `] as const;`.
fn ui_use_cases() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/stores.ts");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let start = text.find("export const USE_CASES = [").expect("stores.ts declares USE_CASES");
    let body = &text[start..];
    let body = &body[body.find('[').expect("[") + 1..body.find("] as const").expect("] as const")];
    body.split(',').map(|n| n.trim().trim_matches('\'').to_string()).filter(|n| !n.is_empty()).collect()
}

#[test]
fn every_use_case_the_ui_asks_about_is_one_the_core_answers() {
    let names = ui_use_cases();
    assert!(names.len() >= 10, "USE_CASES was not parsed: {names:?}");
    for name in &names {
        let uc = by_name(name).unwrap_or_else(|| panic!("the UI asks about {name:?}, which the core's table lacks"));
        assert!(
            matches!(uc.runs, Runs::PeopleAndTokens | Runs::PeopleOnly),
            "{name}: App::use_case_gates answers only use cases a signed-in person runs"
        );
    }
}

/// The audit log shows each row's action in words (`uc.<action>` in the UI's catalogs). The
/// actions the core writes: every use case's name, the bulk actions (`bulk.<action>`), and
/// the few steps audited outside a use case's own name. A new one without its words would
/// show as an id on the Audit screen: this test fails instead.
#[test]
fn every_audited_action_has_words_in_every_catalog() {
    use residentdesk::app::usecases::ALL;
    use residentdesk::domain::BulkAction;
    let mut actions: Vec<String> = ALL.iter().map(|uc| uc.name.to_string()).collect();
    actions.extend(BulkAction::ALL.iter().map(|a| format!("bulk.{}", a.as_str())));
    actions.extend(
        [
            "access.grant",
            "access.revoke",
            "audit.triggers_restored",
            "audit.retention_scrub",
            "sync.site_added",
            "sync.remote_purge",
            "remote.check.result",
        ]
        .map(String::from),
    );
    for catalog in ["en", "es"] {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../ui/src/lib/i18n/{catalog}.ts"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let missing: Vec<&String> = actions.iter().filter(|a| !text.contains(&format!("\"uc.{a}\":"))).collect();
        assert!(missing.is_empty(), "{catalog}.ts has no \"uc.<action>\" words for {missing:?}");
    }
}
