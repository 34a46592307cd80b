//! Conflict resolution writes resident fields through the same checks as an update: a
//! resolution that would store what an update refuses is refused the same way.

use crate::fixture::*;
use residentdesk::app::residents::ResidentFilter;
use residentdesk::app::sync::{Keep, Resolution};
use residentdesk::domain::ConflictKind;
use residentdesk::store;
use serde_json::json;

#[test]
fn a_resolution_cannot_store_what_an_update_would_refuse() {
    let (mut app, _) = demo_app(400);
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let r = app
        .resident_list(&admin, "Maple Court", &ResidentFilter::default())
        .unwrap()
        .into_iter()
        .find(|r| !r.status.is_expired())
        .unwrap()
        .resident;
    let conflict = |app: &mut residentdesk::App, fields: serde_json::Value| {
        let tx = app.conn_mut().transaction().unwrap();
        let c = store::conflicts::NewConflict {
            site_id: r.site_id,
            resident_id: Some(r.id),
            remote_id: None,
            email: Some(&r.email),
            kind: ConflictKind::Field,
            fields,
            entry_ids: &[],
            message: "test",
        };
        let id = store::conflicts::insert(&tx, &c, test_now()).unwrap();
        tx.commit().unwrap();
        id
    };
    // The remote's unit is not one of the site's mappings: keeping it is refused at Unit.
    let bad = conflict(&mut app, json!({"Unit": {"base": r.unit, "local": r.unit, "remote": "NO-SUCH-UNIT"}}));
    let e =
        app.conflict_resolve(&admin, bad, &Resolution { keep: Some(Keep::Remote), ..Default::default() }).unwrap_err();
    assert_eq!(e.code.exit_code(), 4, "{e:?}");
    assert_eq!(e.field(), Some("Unit"), "{e:?}");
    assert_eq!(app.resident_show(&admin, &r.email).unwrap().resident.unit, r.unit, "nothing was written");
    // A name from the remote passes the same checks and is kept.
    let ok =
        conflict(&mut app, json!({"FirstName": {"base": r.first_name, "local": r.first_name, "remote": "Remotely"}}));
    app.conflict_resolve(&admin, ok, &Resolution { keep: Some(Keep::Remote), ..Default::default() }).unwrap();
    assert_eq!(app.resident_show(&admin, &r.email).unwrap().resident.first_name, "Remotely");
}
