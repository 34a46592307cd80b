//! Corner case 4 as a property: export a site, let "Excel" save the file again (the
//! `+00:00` of every `...UTC` date dropped, dates rewritten as `m/d/yyyy h:mm`, CRLF), import
//! it into an empty site of another database, and every resident is identical — at a site
//! whose zone is not UTC (Chicago, across both DST changes), with terminated residents whose
//! access had not started (empty stays) among them.

use super::fixture::test_now;
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use residentdesk::app::csv::{ExportRequest, ImportStatus};
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::{ResidentInput, Session};
use residentdesk::csvio::Columns;
use residentdesk::store;
use residentdesk::store::sites::Mapping;
use residentdesk::{App, FixedClock};
use std::sync::Arc;

const SITE: &str = "Excel Lofts";
const ZONE: &str = "America/Chicago";

fn fresh() -> (App, Session) {
    let mut app = App::open_in_memory(Arc::new(FixedClock::new(test_now()))).unwrap();
    let s = app.init("admin@excel.test", "Excel-Trip-Pass-2026", "Excel").unwrap();
    let team = s.actor.team_id().unwrap();
    let tx = app.conn_mut().transaction().unwrap();
    let id = store::sites::insert(&tx, team, SITE, "PSK", ZONE, None).unwrap();
    for u in 1..=40 {
        let m = Mapping {
            building: "A".into(),
            floor: "1".into(),
            unit: format!("{u:03}"),
            passphrase: None,
            ssid: None,
            vlan: None,
        };
        store::sites::insert_mapping(&tx, id, &m).unwrap();
    }
    tx.commit().unwrap();
    (app, s)
}

/// What must survive the trip, resident by resident.
type Row = (String, String, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>);

fn residents(app: &App, s: &Session) -> Vec<Row> {
    let mut out: Vec<Row> = app
        .resident_list(s, SITE, &ResidentFilter::default())
        .unwrap()
        .into_iter()
        .map(|v| {
            let r = v.resident;
            (r.email, r.first_name, r.last_name, r.phone, r.unit, r.activation_utc, r.deactivation_utc)
        })
        .collect();
    out.sort();
    out
}

/// Saves the file as Excel does after opening it: `2027-01-05T21:10:00+00:00` in a UTC
/// column becomes `1/5/2027 21:10` (Excel shows the UTC wall-clock time and drops the
/// offset and the seconds), lines end with CRLF, the BOM is kept.
fn excel_rewrite(file: &[u8]) -> Vec<u8> {
    let (bom, body) = match file.strip_prefix(b"\xEF\xBB\xBF".as_slice()) {
        Some(rest) => (true, rest),
        None => (false, file),
    };
    let mut out = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(body);
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(&mut out);
    let mut utc_columns = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        if i == 0 {
            utc_columns = record.iter().map(|h| h.ends_with("UTC")).collect();
            writer.write_record(&record).unwrap();
            continue;
        }
        let cells: Vec<String> = record
            .iter()
            .zip(&utc_columns)
            .map(|(cell, utc)| match (utc, DateTime::parse_from_rfc3339(cell)) {
                (true, Ok(dt)) => dt.naive_utc().format("%-m/%-d/%Y %-H:%M").to_string(),
                _ => cell.to_string(),
            })
            .collect();
        writer.write_record(&cells).unwrap();
    }
    drop(writer);
    out
}

#[test]
fn the_rewrite_looks_like_excel() {
    let file = "\u{feff}FirstName,ActivationDateUTC,DeactivationDateUTC\nAnn,2027-01-05T21:10:00+00:00,\n";
    let text = String::from_utf8(excel_rewrite(file.as_bytes())).unwrap();
    assert_eq!(text, "\u{feff}FirstName,ActivationDateUTC,DeactivationDateUTC\r\nAnn,1/5/2027 21:10,\r\n");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn export_through_excel_and_back_gives_the_same_residents(
        // (first name, last name, start in minutes from 2026-01-01, stay in minutes, terminate)
        people in proptest::collection::vec(
            ("[A-Z][a-z]{0,10}", "[A-Z][a-z]{0,12}", 0i64..(2 * 365 * 24 * 60), proptest::option::of(1i64..(400 * 24 * 60)), any::<bool>()),
            1..14,
        ),
        excel_safe in any::<bool>(),
    ) {
        let (mut a, sa) = fresh();
        let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        for (i, (first, last, start, stay, terminate)) in people.iter().enumerate() {
            let start = base + Duration::minutes(*start);
            let email = format!("p{i}@excel.test");
            let input = ResidentInput {
                first_name: first.clone(),
                last_name: last.clone(),
                email: email.clone(),
                phone: Some(format!("555-01{i:02}")),
                building: "A".into(),
                floor: "1".into(),
                unit: format!("{:03}", i + 1),
                start: start.to_rfc3339(),
                end: stay.map(|m| (start + Duration::minutes(m)).to_rfc3339()),
            };
            a.resident_add(&sa, SITE, &input).unwrap();
            if *terminate && !a.resident_show(&sa, &email).unwrap().status.is_expired() {
                a.resident_terminate(&sa, &email).unwrap();
            }
        }
        let mut exported = Vec::new();
        let request = ExportRequest { site: Some(SITE.into()), columns: Columns::Api, excel: excel_safe, ..Default::default() };
        a.export_residents(&sa, &request, &mut exported).unwrap();
        let saved = excel_rewrite(&exported);
        prop_assert!(!String::from_utf8_lossy(&saved).contains("+00:00"), "Excel dropped every offset");
        let (mut b, sb) = fresh();
        let report = b.import_commit(&sb, SITE, &saved, false).unwrap();
        prop_assert_eq!(report.status, ImportStatus::Imported, "{:?}", report.problems);
        let readings: Vec<String> = report.file.unwrap().dates.into_iter().map(|d| d.meaning).collect();
        prop_assert_eq!(readings, vec!["UTC".to_string(), "UTC".to_string()]);
        prop_assert_eq!(residents(&a, &sa), residents(&b, &sb));
    }
}
