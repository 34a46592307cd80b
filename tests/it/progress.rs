//! Progress of the export and of bulk actions (issue #16: the desktop shows bars with counts):
//! the observer hears counts that only grow and end at the total, which the core knows for an
//! unfiltered export and for every bulk action.

use crate::fixture::*;
use residentdesk::app::csv::ExportRequest;
use residentdesk::app::progress::Progress;
use residentdesk::app::residents::ResidentFilter;
use residentdesk::domain::{BulkAction, StatusFlag};

fn climbs_to(heard: &[Progress], stage: &str, total: u64) {
    assert!(!heard.is_empty());
    assert!(heard.iter().all(|p| p.stage == stage && p.total == Some(total)), "{heard:?}");
    assert!(heard.windows(2).all(|w| w[0].done <= w[1].done), "{heard:?}");
    assert_eq!(heard.last().unwrap().done, total, "{heard:?}");
}

#[test]
fn an_unfiltered_export_reports_rows_of_the_total_and_a_filtered_one_without() {
    let (mut app, _clock) = demo_app(2500);
    let owner = sign_in(&mut app, OWNER);
    let mut heard = Vec::new();
    let mut out = Vec::new();
    let summary =
        app.export_residents_observed(&owner, &ExportRequest::default(), &mut out, &mut |p| heard.push(p)).unwrap();
    climbs_to(&heard, "export", summary.rows);
    let everyone: i64 = app.site_list(&owner).unwrap().iter().map(|s| s.residents).sum();
    assert_eq!(summary.rows as i64, everyone, "every resident of every site");
    assert!(heard.len() >= 2 && heard[0].done == 1000, "every 1,000 rows and at the end: {heard:?}");

    let filtered = ExportRequest {
        filter: ResidentFilter { statuses: vec![StatusFlag::Expired], ..Default::default() },
        ..Default::default()
    };
    let mut heard = Vec::new();
    let summary = app.export_residents_observed(&owner, &filtered, &mut Vec::new(), &mut |p| heard.push(p)).unwrap();
    assert!(heard.iter().all(|p| p.total.is_none()), "the filtered count is not known beforehand: {heard:?}");
    assert_eq!(heard.last().unwrap().done, summary.rows);
}

#[test]
fn a_bulk_action_reports_residents_taken_up_of_the_total() {
    let (mut app, _clock) = demo_app(600);
    let owner = sign_in(&mut app, OWNER);
    let site = app.site_list(&owner).unwrap().into_iter().max_by_key(|s| s.residents).unwrap();
    let mut heard = Vec::new();
    let report = app
        .bulk_observed(&owner, BulkAction::ResendInvites, &site.site.id.to_string(), &[], &mut |p| heard.push(p))
        .unwrap();
    assert_eq!(report.total as i64, site.residents);
    climbs_to(&heard, "bulk", report.total as u64);
    assert!(heard.len() >= 10, "about every twentieth resident: {} reports for {}", heard.len(), report.total);
    assert_eq!(report.success.len() + report.failed.len(), report.total);
}
