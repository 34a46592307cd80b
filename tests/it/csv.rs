//! CSV import and export, through the app layer and through the built CLI: each header
//! dialect, delimiter, encoding, date form and rule; dry run, all-or-nothing, valid-only;
//! scope; Excel safety; the round trip and a fuzz pass over random bytes.

use super::fixture::{demo_app, sign_in, test_now, Work, STAFF, TEAM_ADMIN};
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use residentdesk::app::csv::{ExportRequest, ImportOptions, ImportReport, ImportStatus};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::{ResidentInput, Session};
use residentdesk::csvio::Columns;
use residentdesk::domain::StatusFlag;
use residentdesk::store;
use residentdesk::store::sites::Mapping;
use residentdesk::{App, ErrorCode, FixedClock};
use std::sync::Arc;

const SITE: &str = "Import Lofts";

/// Adds an empty site to the session's team with units A/1/101–120 and B/2/201–220.
fn add_site(app: &mut App, session: &Session, name: &str, tz: &str) -> i64 {
    let team = session.actor.team_id().unwrap();
    let tx = app.conn_mut().transaction().unwrap();
    let id = store::sites::insert(&tx, team, name, "PSK", tz, None).unwrap();
    for (b, f) in [("A", "1"), ("B", "2")] {
        for u in 1..=20 {
            let m = Mapping {
                building: b.into(),
                floor: f.into(),
                unit: format!("{f}{u:02}"),
                passphrase: None,
                ssid: None,
                vlan: None,
            };
            store::sites::insert_mapping(&tx, id, &m).unwrap();
        }
    }
    tx.commit().unwrap();
    id
}

fn setup() -> (App, Session) {
    let (mut app, _clock) = demo_app(60);
    let session = sign_in(&mut app, TEAM_ADMIN);
    add_site(&mut app, &session, SITE, "America/Chicago");
    (app, session)
}

fn counts(app: &App) -> (i64, i64, i64) {
    let c = app.conn();
    let q = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    (q("SELECT count(*) FROM residents"), q("SELECT count(*) FROM outbox"), q("SELECT count(*) FROM audit"))
}

fn preview(app: &mut App, s: &Session, text: &str) -> ImportReport {
    app.import_preview(s, SITE, text.as_bytes()).unwrap()
}

fn site_residents(app: &App, s: &Session, site: &str) -> Vec<residentdesk::app::ResidentView> {
    app.resident_list(s, site, &ResidentFilter::default()).unwrap()
}

const API: &str = "FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n";

#[test]
fn api_dialect_import_goes_through_the_add_use_case() {
    let (mut app, s) = setup();
    let text = format!(
        "{API}Ava,Stone,ava@new.test,555-0100,A,1,101,2026-01-01,\nBo,Reyes,BO@New.Test,,A,1,102,2026-01-01T08:00:00-06:00,2027-01-01\n"
    );
    let before = counts(&app);
    let report = app.import_commit(&s, SITE, text.as_bytes(), false).unwrap();
    assert_eq!(report.status, ImportStatus::Imported, "{report:?}");
    assert_eq!((report.rows, report.valid_rows, report.imported), (2, 2, 2));
    let file = report.file.unwrap();
    assert_eq!(
        (file.delimiter.as_str(), file.encoding.as_str(), file.header_dialect),
        ("comma", "utf-8", Columns::Api)
    );
    let after = counts(&app);
    assert_eq!(after.0 - before.0, 2);
    // One outbox `create` per row, one audit entry per row plus the import's own.
    assert_eq!(after.1 - before.1, 2);
    assert_eq!(after.2 - before.2, 3);
    let ops: Vec<String> = app
        .conn()
        .prepare("SELECT op FROM outbox ORDER BY id DESC LIMIT 2")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ops, ["create", "create"]);
    let list = site_residents(&app, &s, SITE);
    let bo = list.iter().find(|r| r.resident.email == "bo@new.test").expect("email normalised like a single add");
    assert_eq!(bo.resident.activation_utc, Utc.with_ymd_and_hms(2026, 1, 1, 14, 0, 0).unwrap());
    // A bare date is midnight in the site's zone (Chicago, UTC-6 in January).
    let ava = list.iter().find(|r| r.resident.email == "ava@new.test").unwrap();
    assert_eq!(ava.resident.activation_utc, Utc.with_ymd_and_hms(2026, 1, 1, 6, 0, 0).unwrap());
    assert_eq!(ava.resident.phone, "555-0100");
}

#[test]
fn site_manager_dialect_semicolon_bom_aliases_and_excel_dates() {
    let (mut app, s) = setup();
    let text = "\u{feff}First Name;Last Name;E-mail;Mobile;Building;Floor;Unit;Move In;Move Out;Notes\r\n\
                Zoë;Kim;zoe@new.test;;A;1;103;11/5/2026 2:10 PM;12/31/26\r\n\
                Ian;Moe;ian@new.test;;A;1;104;11/5/26 14:10:22;\r\n\
                Eve;Ng;eve@new.test;;A;1;105;11/5/2026;\r\n";
    let report = app.import_commit(&s, SITE, text.as_bytes(), false).unwrap();
    assert_eq!(report.status, ImportStatus::Imported, "{:?}", report.problems);
    let file = report.file.unwrap();
    assert_eq!(file.delimiter, "semicolon");
    assert_eq!(file.encoding, "utf-8 (BOM)");
    assert_eq!(file.header_dialect, Columns::SiteManager);
    assert_eq!(file.ignored_columns, ["Notes"]);
    let list = site_residents(&app, &s, SITE);
    let get = |e: &str| list.iter().find(|r| r.resident.email == e).unwrap().resident.clone();
    // Chicago is UTC-6 in November (after the DST change on Nov 1, 2026).
    assert_eq!(get("zoe@new.test").first_name, "Zoë");
    assert_eq!(get("zoe@new.test").activation_utc, Utc.with_ymd_and_hms(2026, 11, 5, 20, 10, 0).unwrap());
    assert_eq!(get("zoe@new.test").deactivation_utc, Some(Utc.with_ymd_and_hms(2026, 12, 31, 6, 0, 0).unwrap()));
    assert_eq!(get("ian@new.test").activation_utc, Utc.with_ymd_and_hms(2026, 11, 5, 20, 10, 22).unwrap());
    assert_eq!(get("eve@new.test").activation_utc, Utc.with_ymd_and_hms(2026, 11, 5, 6, 0, 0).unwrap());
}

#[test]
fn tab_delimited_windows_1252_file() {
    let (mut app, s) = setup();
    let bytes = b"First Name\tLast Name\tEmail\tPhone\tBldg\tFloor\tApt\tStart Date\tEnd Date\n\
                  Ren\xE9e\tM\xFCller\trenee@new.test\t\tA\t1\t106\t2026-02-01\t\n";
    let report = app.import_commit(&s, SITE, bytes, false).unwrap();
    assert_eq!(report.status, ImportStatus::Imported, "{:?}", report.problems);
    let file = report.file.unwrap();
    assert_eq!((file.delimiter.as_str(), file.encoding.as_str()), ("tab", "windows-1252"));
    let list = site_residents(&app, &s, SITE);
    assert_eq!(list[0].resident.first_name, "Renée");
    assert_eq!(list[0].resident.last_name, "Müller");
}

#[test]
fn every_rule_is_reported_by_row_column_and_value() {
    let (mut app, s) = setup();
    // An existing resident of the site occupies A/1/110 from 2026-01-01, open-ended.
    let input = ResidentInput {
        first_name: "Old".into(),
        last_name: "Tenant".into(),
        email: "old@new.test".into(),
        phone: None,
        building: "A".into(),
        floor: "1".into(),
        unit: "110".into(),
        start: "2026-01-01".into(),
        end: None,
    };
    app.resident_add(&s, SITE, &input).unwrap();
    let taken = app
        .conn()
        .query_row(
            "SELECT email FROM residents WHERE site_id != (SELECT id FROM sites WHERE name = ?1) LIMIT 1",
            [SITE],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    let text = format!(
        "First Name,Last Name,E-mail,Phone,Building,Floor,Unit,Start Date,End Date\n\
         ,Smith,a@new.test,,A,1,101,2026-01-01,\n\
         Bea,Smith,not-an-email,,A,1,102,2026-01-01,\n\
         Cal,Smith,{taken},,A,1,103,2026-01-01,\n\
         Dee,Smith,d@new.test,,A,9,999,2026-01-01,\n\
         Eli,Smith,e@new.test,,A,1,105,2026-03-01,2026-02-01\n\
         Fay,Smith,f@new.test,,A,1,106,2026-01-01,\n\
         Fay,Again,F@NEW.TEST,,A,1,107,2026-01-01,\n\
         Gus,Smith,g@new.test,,A,1,108,2026-01-01,2026-12-31\n\
         Hal,Smith,h@new.test,,A,1,108,2026-06-01,\n\
         Ida,Smith,i@new.test,,A,1,110,2026-05-01,\n\
         Jon,Smith,j@new.test,abc,A,1,111,next week,\n\
         Kim,Smith,k@new.test,,A,1,112,2026-01-01,\n"
    );
    let report = preview(&mut app, &s, &text);
    assert_eq!(report.status, ImportStatus::DryRun);
    assert_eq!((report.rows, report.valid_rows, report.invalid_rows), (12, 3, 9), "{:#?}", report.problems);
    let find = |row: u64, column: &str| {
        report
            .problems
            .iter()
            .find(|p| p.row == row && p.column == column)
            .unwrap_or_else(|| panic!("no problem at row {row} column {column}: {:#?}", report.problems))
    };
    assert!(find(2, "First Name").message.contains("First name is required"));
    assert_eq!(find(3, "E-mail").value, "not-an-email");
    assert!(find(4, "E-mail").message.contains("already belongs to another resident"));
    assert!(find(5, "Unit").message.contains("not one of the site's mappings"));
    assert!(find(6, "End Date").message.contains("must be after"));
    let dup = find(8, "E-mail");
    assert!(dup.message.contains("already on row 7 of this file"), "{}", dup.message);
    assert_eq!(dup.value, "F@NEW.TEST");
    assert!(find(10, "Unit").message.contains("row 9 of this file"));
    assert!(find(11, "Unit").message.contains("already occupied") && find(11, "Unit").message.contains("old@new.test"));
    assert_eq!(find(12, "Phone").field, "PhoneNumber");
    assert!(find(12, "Start Date").message.contains("not a date"));
    // Rows 7 and 9 are the valid ones; 13 too.
    let bad_rows: Vec<u64> = report.problems.iter().map(|p| p.row).collect();
    for ok_row in [7, 9, 13] {
        assert!(!bad_rows.contains(&ok_row), "row {ok_row} should be valid");
    }
}

#[test]
fn dry_run_writes_nothing_and_commit_reports_the_same() {
    let (mut app, s) = setup();
    dry_run_and_commit_agree(&mut app, &s);
}

/// On a database file the import checks rows on a second thread against a snapshot while
/// the first one writes: the same report, the same rows, as in one thread.
#[test]
fn a_file_database_imports_the_same_with_its_row_checker_thread() {
    let dir = tempfile::tempdir().unwrap();
    let mut app = App::open(&dir.path().join("import.db"), Arc::new(FixedClock::new(test_now()))).unwrap();
    app.demo_seed(60, 7).unwrap();
    let s = sign_in(&mut app, TEAM_ADMIN);
    add_site(&mut app, &s, SITE, "America/Chicago");
    let on_disk = dry_run_and_commit_agree(&mut app, &s);
    let (mut memory, ms) = setup();
    assert_eq!(on_disk, dry_run_and_commit_agree(&mut memory, &ms), "both ways report the same problems");
}

/// A committing import into a database file leaves the WAL checkpoint to a background
/// thread: the rows are readable at once from another connection, `settle` waits for the
/// checkpoint, after which every logged frame is back in the database file, and the
/// connection's automatic checkpoint is on again. A dry run starts none.
#[test]
fn a_file_import_checkpoints_in_the_background() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("import.db");
    let mut app = App::open(&path, Arc::new(FixedClock::new(test_now()))).unwrap();
    app.demo_seed(60, 7).unwrap();
    let s = sign_in(&mut app, TEAM_ADMIN);
    add_site(&mut app, &s, SITE, "America/Chicago");
    let rows: String = (1..=20).map(|u| format!("R{u},Lee,r{u}@bg.test,,A,1,1{u:02},2026-01-01,\n")).collect();
    let text = format!("{API}{rows}");
    assert_eq!(preview(&mut app, &s, &text).invalid_rows, 0);
    assert_eq!(app.settle(), None, "a dry run leaves no checkpoint behind");
    let report = app.import_commit(&s, SITE, text.as_bytes(), false).unwrap();
    assert_eq!(report.imported, 20);
    // Keyed as the app's connection is (the database is encrypted).
    let key = residentdesk::store::key::resolve(&path, &residentdesk::store::KeySource::Standard).unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    key.apply(&other, &path).unwrap();
    let seen: i64 =
        other.query_row("SELECT count(*) FROM residents WHERE email LIKE '%@bg.test'", [], |r| r.get(0)).unwrap();
    assert_eq!(seen, 20, "committed before the checkpoint");
    assert!(app.settle().is_some(), "the import started a background checkpoint");
    // The database file alone (immutable: no WAL read) now holds the rows.
    let uri = format!("file:{}?immutable=1", path.display());
    let file_only = rusqlite::Connection::open_with_flags(
        uri,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    key.apply(&file_only, &path).unwrap();
    let in_file: i64 =
        file_only.query_row("SELECT count(*) FROM residents WHERE email LIKE '%@bg.test'", [], |r| r.get(0)).unwrap();
    assert_eq!(in_file, 20, "the checkpoint copied the import into the database file");
    let auto: i64 = app.conn().query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0)).unwrap();
    assert_eq!(auto, residentdesk::store::WAL_AUTOCHECKPOINT_PAGES);
}

/// Imports a file with in-file and database problems: dry run, all-or-nothing, valid-only.
fn dry_run_and_commit_agree(app: &mut App, s: &Session) -> Vec<residentdesk::csvio::import::RowProblem> {
    // Already here: Dee in A/1/110 (the file repeats her email and overlaps her unit).
    let dee = ResidentInput {
        first_name: "Dee".into(),
        last_name: "Here".into(),
        email: "dee@new.test".into(),
        phone: None,
        building: "A".into(),
        floor: "1".into(),
        unit: "110".into(),
        start: "2026-01-01".into(),
        end: None,
    };
    app.resident_add(s, SITE, &dee).unwrap();
    let text = format!(
        "{API}Ava,Stone,ava@new.test,,A,1,101,2026-01-01,\nAva,Twin,ava@new.test,,A,1,102,2026-01-01,\nBo,Lee,bo@new.test,,A,1,101,2026-02-01,\nCy,Lee,cy@new.test,,B,2,201,2026-01-01,\nDee,Again,DEE@new.test,,B,2,202,2026-01-01,\nEve,Late,eve@new.test,,A,1,110,2026-03-01,\n"
    );
    let before = counts(app);
    let dry = preview(app, s, &text);
    assert_eq!(counts(app), before, "a dry run writes nothing, not even audit");
    assert_eq!(dry.invalid_rows, 4, "{:#?}", dry.problems);
    assert!(dry.problems.iter().any(|p| p.row == 6 && p.field == "Email"), "{:#?}", dry.problems);
    assert!(dry.problems.iter().any(|p| p.row == 7 && p.field == "Unit"), "{:#?}", dry.problems);
    // Default: all or nothing.
    let all = app.import_commit(s, SITE, text.as_bytes(), false).unwrap();
    assert_eq!(all.status, ImportStatus::Rejected);
    assert_eq!(all.imported, 0);
    assert_eq!(all.problems, dry.problems, "dry run and commit report the same problems");
    let after = counts(app);
    assert_eq!((after.0, after.1), (before.0, before.1), "nothing imported");
    assert_eq!(after.2, before.2 + 1, "the rejected import is audited");
    // Valid only: rows 2 and 5.
    let some = app.import_commit(s, SITE, text.as_bytes(), true).unwrap();
    assert_eq!(some.status, ImportStatus::PartiallyImported);
    assert_eq!(some.imported, 2);
    assert_eq!(some.problems, dry.problems);
    let emails: Vec<String> = site_residents(app, s, SITE).into_iter().map(|r| r.resident.email).collect();
    assert_eq!(emails.len(), 3);
    assert!(emails.contains(&"ava@new.test".to_string()) && emails.contains(&"cy@new.test".to_string()));
    let after = counts(app);
    assert_eq!((after.0, after.1), (before.0 + 2, before.1 + 2), "one outbox entry per imported resident");
    dry.problems
}

#[test]
fn bad_input_gives_clear_errors_never_a_panic() {
    let (mut app, s) = setup();
    let huge = "x".repeat(5000);
    let text = format!(
        "{API}Ava,Stone\n\"Bo\nBo\",\"Le\"\"e\",bo@new.test,,A,1,101,2026-01-01,\nCy,{huge},cy@new.test,,A,1,102,2026-01-01,\nDi,N\0l,di@new.test,,A,1,103,2026-01-01,\nEd,=HYPERLINK(\"http://evil\"),ed@new.test,,A,1,104,2026-01-01,\n"
    );
    let report = preview(&mut app, &s, &text);
    let rows: Vec<u64> = report.problems.iter().map(|p| p.row).collect();
    assert!(rows.contains(&2), "ragged row: {:#?}", report.problems);
    // Row 3 has a line break in a quoted cell, so the spreadsheet row numbers go on at 4.
    assert!(report.problems.iter().any(|p| p.row == 3 && p.field == "FirstName" && p.message.contains("control")));
    assert!(report.problems.iter().any(|p| p.row == 4 && p.message.contains("longer than 4096")));
    assert!(report.problems.iter().any(|p| p.row == 5 && p.message.contains("NUL")));
    assert!(!rows.contains(&6), "formula text is data, stored as typed");
    // Files that are not resident CSVs.
    for bytes in [&b""[..], b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", b"\xFF\xFEF\0", b"just,some,words\n1,2,3\n"] {
        let r = app.import_preview(&s, SITE, bytes).unwrap();
        assert!(r.file_error.is_some(), "{bytes:?}");
        assert_eq!(r.problems[0].row, 1);
    }
    let r = app.import_commit(&s, SITE, b"nope", false).unwrap();
    assert_eq!(r.status, ImportStatus::Rejected);
}

#[test]
fn site_column_must_match_and_scope_is_enforced() {
    let (mut app, admin) = setup();
    let text = format!(
        "FirstName,LastName,Email,Building,Floor,Unit,ActivationDateUTC,Site\nAva,Stone,ava@new.test,A,1,101,2026-01-01,{SITE}\nBo,Lee,bo@new.test,A,1,102,2026-01-01,Willow Park\n"
    );
    let report = preview(&mut app, &admin, &text);
    assert_eq!(report.valid_rows, 1);
    assert!(report.problems[0].message.contains("this row is for site \"Willow Park\""));
    // A Staff user of Maple Court only: other sites are denied, for import and export.
    let staff = sign_in(&mut app, STAFF);
    let e = app.import_preview(&staff, "Willow Park", text.as_bytes()).unwrap_err();
    assert_eq!(e.code, ErrorCode::PermissionDenied);
    let mut sink = Vec::new();
    let req = ExportRequest { site: Some("Willow Park".into()), ..Default::default() };
    assert_eq!(app.export_residents(&staff, &req, &mut sink).unwrap_err().code, ErrorCode::PermissionDenied);
    assert!(sink.is_empty());
    // The whole team, for a Staff user, is their sites only.
    let summary = app.export_residents(&staff, &ExportRequest::default(), &mut sink).unwrap();
    assert_eq!(summary.sites, ["Maple Court"]);
    let text = String::from_utf8(sink).unwrap();
    assert_eq!(text.lines().count() as u64, summary.rows + 1);
    assert!(text.lines().skip(1).all(|l| l.ends_with(",Maple Court")));
}

#[test]
fn export_filters_columns_dates_and_audit() {
    let (mut app, _clock) = demo_app(300);
    let s2 = sign_in(&mut app, TEAM_ADMIN);
    let all = app.resident_list(&s2, "Maple Court", &ResidentFilter::default()).unwrap();
    let expired = all.iter().filter(|r| r.status.is_expired()).count();
    assert!(expired > 0);
    let mut out = Vec::new();
    let req = ExportRequest {
        site: Some("Maple Court".into()),
        filter: ResidentFilter { statuses: vec![StatusFlag::Expired], ..Default::default() },
        columns: Columns::SiteManager,
        ..Default::default()
    };
    let summary = app.export_residents(&s2, &req, &mut out).unwrap();
    assert_eq!(summary.rows as usize, expired);
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "First Name,Last Name,Email,Phone Number,Building,Floor,Unit,Access Start,Access End,Status,ResidentId"
    );
    for line in lines {
        assert!(line.contains(",expired,"), "{line}");
        assert!(line.contains("+00:00"), "UTC dates by default: {line}");
    }
    // Search and building filters give the same rows as the list.
    let first = &all[0].resident;
    let filter = ResidentFilter {
        search: Some(first.last_name.clone()),
        building: Some(first.building.clone()),
        ..Default::default()
    };
    let listed = app.resident_list(&s2, "Maple Court", &filter).unwrap();
    let mut out = Vec::new();
    let req = ExportRequest { site: Some("Maple Court".into()), filter, local_dates: true, ..Default::default() };
    let summary = app.export_residents(&s2, &req, &mut out).unwrap();
    assert_eq!(summary.rows as usize, listed.len());
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.starts_with("FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDate,DeactivationDate,")
    );
    assert!(!text.contains("+00:00"), "local dates have no offset");
    // Every export is audited: who, which sites, how many rows.
    let entries = app.audit_list(&s2, None, 5).unwrap();
    let e = entries.iter().find(|e| e.action == "resident.export").unwrap();
    assert_eq!(e.actor, TEAM_ADMIN.0);
    assert_eq!(e.details["rows"], serde_json::json!(listed.len()));
    assert_eq!(e.details["sites"], serde_json::json!(["Maple Court"]));
}

#[test]
fn excel_export_is_safe_and_reads_back() {
    let (mut app, s) = setup();
    let input = ResidentInput {
        first_name: "=cmd|' /C calc'!A0".into(),
        last_name: "@SUM(1+1)".into(),
        email: "formula@new.test".into(),
        phone: Some("+1 (555) 0100".into()),
        building: "A".into(),
        floor: "1".into(),
        unit: "101".into(),
        start: "2026-01-01".into(),
        end: None,
    };
    app.resident_add(&s, SITE, &input).unwrap();
    let mut out = Vec::new();
    let req = ExportRequest { site: Some(SITE.into()), excel: true, ..Default::default() };
    app.export_residents(&s, &req, &mut out).unwrap();
    assert!(out.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(out[3..].to_vec()).unwrap();
    assert!(text.ends_with("\r\n") && !text.replace("\r\n", "").contains('\n'));
    let row = text.split("\r\n").nth(1).unwrap();
    assert!(row.starts_with("'=cmd|' /C calc'!A0,'@SUM(1+1),formula@new.test,'+1 (555) 0100,"), "{row}");
    // Read back into another database: the text comes back exactly as typed.
    let (mut other, _) = demo_app(60);
    let os = sign_in(&mut other, TEAM_ADMIN);
    add_site(&mut other, &os, SITE, "America/Chicago");
    let r = other.import_commit(&os, SITE, &out, false).unwrap();
    assert_eq!(r.status, ImportStatus::Imported, "{:?}", r.problems);
    let back = &site_residents(&other, &os, SITE)[0].resident;
    assert_eq!(
        (back.first_name.as_str(), back.last_name.as_str(), back.phone.as_str()),
        ("=cmd|' /C calc'!A0", "@SUM(1+1)", "+1 (555) 0100")
    );
}

#[test]
fn progress_is_reported_for_long_files() {
    let (mut app, s) = setup();
    let mut text = API.to_string();
    for i in 0..2500 {
        text.push_str(&format!("P{i},Q,p{i}@new.test,,A,1,999,2026-01-01,\n"));
    }
    let mut seen = Vec::new();
    let opts = ImportOptions { dry_run: true, valid_only: false };
    let report = app.import_residents(&s, SITE, text.as_bytes(), opts, &mut |p| seen.push(p.rows)).unwrap();
    assert_eq!(report.invalid_rows, 2500);
    assert_eq!(seen, [1000, 2000, 2500]);
}

/// A fresh database with one empty site, and its Team administrator.
fn fresh(tz: &str) -> (App, Session) {
    let clock = Arc::new(FixedClock::new(test_now()));
    let mut app = App::open_in_memory(clock).unwrap();
    let s = app.init("admin@round.test", "Round-Trip-Pass-2026", "Round").unwrap();
    add_site(&mut app, &s, SITE, tz);
    (app, s)
}

fn export_site(app: &mut App, s: &Session, columns: Columns, excel: bool, local: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let req = ExportRequest { site: Some(SITE.into()), columns, excel, local_dates: local, ..Default::default() };
    app.export_residents(s, &req, &mut out).unwrap();
    out
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z]{1,12}", "[A-Za-zéüøñ' ,\";=+@-]{1,16}".prop_filter("not blank", |s| !s.trim().is_empty()),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Export → import into an empty site of another database → export: the same file.
    #[test]
    fn round_trip_gives_an_identical_file(
        people in proptest::collection::vec((name(), name(), "[0-9]{3}-[0-9]{4}|", 0u32..40, 0i64..800, proptest::option::of(1i64..400)), 1..12),
        columns in prop_oneof![Just(Columns::Api), Just(Columns::SiteManager)],
        excel in any::<bool>(),
        local in any::<bool>(),
    ) {
        let (mut a, sa) = fresh("America/Phoenix");
        let mut used = std::collections::HashSet::new();
        for (i, (first, last, phone, unit, start_days, len)) in people.iter().enumerate() {
            if !used.insert(*unit) {
                continue;
            }
            let (b, f, u) = if *unit < 20 { ("A", "1", 101 + unit) } else { ("B", "2", 201 + unit - 20) };
            let start = test_now() - chrono::Duration::days(*start_days) + chrono::Duration::seconds(i as i64 * 3671);
            let input = ResidentInput {
                first_name: first.clone(),
                last_name: last.clone(),
                email: format!("p{i}@round.test"),
                phone: Some(phone.clone()),
                building: b.into(),
                floor: f.into(),
                unit: u.to_string(),
                start: start.to_rfc3339(),
                end: len.map(|d| (start + chrono::Duration::days(d)).to_rfc3339()),
            };
            a.resident_add(&sa, SITE, &input).unwrap();
        }
        let first = export_site(&mut a, &sa, columns, excel, local);
        let (mut b, sb) = fresh("America/Phoenix");
        let report = b.import_commit(&sb, SITE, &first, false).unwrap();
        prop_assert_eq!(report.status, ImportStatus::Imported, "{:?}", report.problems);
        let second = export_site(&mut b, &sb, columns, excel, local);
        prop_assert_eq!(String::from_utf8_lossy(&first), String::from_utf8_lossy(&second));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random bytes, alone or after a valid header: a report, never a panic, nothing written.
    #[test]
    fn importer_survives_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048), with_header in any::<bool>()) {
        thread_local! {
            static APP: std::cell::RefCell<Option<(App, Session)>> = const { std::cell::RefCell::new(None) };
        }
        APP.with(|cell| {
            let mut slot = cell.borrow_mut();
            let (app, s) = slot.get_or_insert_with(|| fresh("UTC"));
            let mut input = if with_header { API.as_bytes().to_vec() } else { Vec::new() };
            input.extend_from_slice(&bytes);
            let before = counts(app);
            let report = app.import_preview(s, SITE, &input).unwrap();
            assert!(report.rows <= 2048);
            assert_eq!(counts(app), before);
        });
    }
}

#[test]
fn cli_import_and_export() {
    let w = Work::demo(60);
    let csv = w.dir.path().join("in.csv");
    // Maple Court's free units: the demo leaves 10 free per site; C101 is one of them at 60 residents.
    std::fs::write(&csv, "First Name;Last Name;Email;Building;Floor;Unit;Start Date\nAva;Stone;ava@cli.test;C;1;C101;11/5/2026\nBad;Row;not-an-email;C;1;C102;2026-01-01\n").unwrap();
    let path = csv.to_str().unwrap();
    let before = w.run(Some(TEAM_ADMIN), &["resident", "list", "--site", "Maple Court"]).ok().json()["count"].clone();
    let dry = w.run(Some(TEAM_ADMIN), &["import", path, "--site", "Maple Court", "--dry-run"]);
    dry.fails(4);
    let report = dry.json();
    assert_eq!(report["status"], "dry_run");
    assert_eq!(report["problems"][0]["row"], 3);
    assert_eq!(report["problems"][0]["column"], "Email");
    let all = w.run(Some(TEAM_ADMIN), &["import", path, "--site", "Maple Court"]);
    all.fails(4);
    assert_eq!(all.json()["status"], "rejected");
    let same = w.run(Some(TEAM_ADMIN), &["resident", "list", "--site", "Maple Court"]).ok().json()["count"].clone();
    assert_eq!(before, same, "all or nothing");
    let some = w.run(Some(TEAM_ADMIN), &["import", path, "--site", "Maple Court", "--valid-only"]);
    some.ok();
    assert_eq!(some.json()["imported"], 1);
    // Export: Excel-safe file, then a Staff user denied another site (exit 3).
    let out = w.dir.path().join("out.csv");
    let run = w.run(
        Some(TEAM_ADMIN),
        &["export", "--site", "Maple Court", "--excel", "--columns", "site-manager", "-o", out.to_str().unwrap()],
    );
    run.ok();
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBFFirst Name,Last Name,"));
    assert!(String::from_utf8_lossy(&bytes).contains("ava@cli.test"));
    assert_eq!(
        run.json()["rows"].as_u64().unwrap() as usize + 1,
        String::from_utf8_lossy(&bytes).matches("\r\n").count()
    );
    let denied = w.run(Some(STAFF), &["export", "--site", "Willow Park"]);
    denied.fails(3);
    assert_eq!(denied.error()["code"], "permission_denied");
    let denied = w.run(Some(STAFF), &["import", path, "--site", "Willow Park", "--dry-run"]);
    denied.fails(3);
    let missing = w.run(Some(TEAM_ADMIN), &["import", "/nonexistent/file.csv", "--site", "Maple Court"]);
    missing.fails(5);
    let team = w.run(Some(TEAM_ADMIN), &["export", "--team", "--status", "current", "-o", "-"]);
    team.ok();
    assert!(team.stdout.starts_with("FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC,Status,ResidentId,Site\n"));
    assert!(team.stdout.lines().skip(1).all(|l| l.contains(",current")));
    assert!(!std::path::Path::new(&format!("{}.partial", out.display())).exists());
    let usage = w.run(Some(TEAM_ADMIN), &["export"]);
    usage.fails(2);
}

/// A file with thousands of problems: grouped by kind and column with exact counts and the
/// first rows; the problems file gives back the person's own rows and columns plus a
/// problem column; the template reads back as one valid row; file-level faults are codes.
#[test]
fn problems_at_scale_are_grouped_and_written_back() {
    use residentdesk::csvio::problems::FileCode;
    let (mut app, s) = setup();
    let mut text = String::from("First Name,Last Name,Email,Building,Floor,Unit,Access Start,Pets\n");
    text.push_str("Ava,Stone,ava@new.test,A,1,101,2026-01-01,cat\n");
    for i in 0..3000 {
        match i % 3 {
            0 => text.push_str(&format!("Bo{i},Lee,not-an-email-{i},A,1,102,2026-01-01,\n")),
            1 => text.push_str(&format!(",Lee,first{i}@new.test,A,1,1{:02},2026-01-01,\n", 3 + i % 17)),
            _ => text.push_str(&format!("Cy{i},Lee,cy{i}@new.test,Z,9,{i},2026-01-01,dog\n")),
        }
    }
    let mut out = Vec::new();
    let (mut report, rows) = app
        .import_with_problems_file(
            &s,
            SITE,
            text.as_bytes(),
            ImportOptions::default(),
            &mut |_| {},
            residentdesk::app::csv::ProblemsFile { out: &mut out, column: "Problem" },
        )
        .unwrap();
    assert_eq!((report.rows, report.valid_rows, report.invalid_rows), (3001, 1, 3000));
    let group = |kind: &str, field: &str| report.groups.iter().find(|g| g.kind == kind && g.field == field).cloned();
    let invalid = group("invalid", "Email").expect("a group of invalid emails");
    assert_eq!(invalid.count, 1000);
    assert_eq!(invalid.examples.iter().map(|p| p.row).collect::<Vec<_>>(), [3, 6, 9, 12, 15]);
    assert_eq!(group("required", "FirstName").map(|g| g.count), Some(1000));
    assert_eq!(group("not_a_mapping", "Unit").map(|g| g.count), Some(1000));
    let total: u64 = report.groups.iter().map(|g| g.count).sum();
    assert_eq!(total, report.problems.len() as u64 + report.unlisted_problems);
    report.keep_listed(10);
    assert_eq!((report.problems.len() as u64, report.unlisted_problems), (10, total - 10));
    // The problems file: every row with problems, as written, plus the problem column.
    assert_eq!(rows, 3000);
    let file = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = file.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3001);
    assert_eq!(lines[0], "\u{feff}First Name,Last Name,Email,Building,Floor,Unit,Access Start,Pets,Problem");
    assert!(lines[1].starts_with("Bo0,Lee,not-an-email-0,A,1,102,2026-01-01,,"), "{}", lines[1]);
    assert!(lines[3].starts_with("Cy2,Lee,cy2@new.test,Z,9,2,2026-01-01,dog,"), "{}", lines[3]);
    assert!(lines[3].contains("not one of the site's mappings"), "{}", lines[3]);
    // Read back, the problems file is the same rows with the same problems (its extra
    // column ignored).
    let again = preview(&mut app, &s, file.trim_start_matches('\u{feff}'));
    assert_eq!((again.rows, again.invalid_rows), (3000, 3000));
    assert_eq!(again.file.unwrap().ignored_columns, ["Pets", "Problem"]);
    // The template: one valid row in the import's own vocabulary.
    let template = residentdesk::csvio::template::write_template(Vec::new(), Columns::SiteManager).unwrap();
    let t = preview(&mut app, &s, &String::from_utf8(template).unwrap());
    assert_eq!((t.rows, t.invalid_rows), (1, 0), "{:?}", t.problems);
    // File-level faults are codes with their parameters.
    let r = preview(&mut app, &s, "");
    assert_eq!(r.file_code, Some(FileCode::Empty));
    let r = preview(&mut app, &s, "Email,First Name\nx@y.test,X\n");
    match r.file_code {
        Some(FileCode::MissingColumns { missing, .. }) => {
            assert_eq!(missing, ["LastName", "Building", "Floor", "Unit", "ActivationDateUTC"])
        }
        other => panic!("{other:?}"),
    }
}
