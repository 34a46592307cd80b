//! Saved views (issue #16): a person's columns, sort and filters per screen are remembered
//! per staff account and team, survive reopening the database, and named views can be shared
//! with the team; only their owner changes or deletes them; tokens have none.

use crate::fixture::*;
use residentdesk::app::views::{NewView, ViewSort, ViewState};
use residentdesk::{App, ErrorCode, FixedClock};
use std::sync::Arc;

fn state(status: &str) -> ViewState {
    ViewState {
        columns: vec!["name".into(), "unit".into(), "end".into()],
        sort: Some(ViewSort { key: "end".into(), descending: true }),
        filters: [("status".to_string(), status.to_string())].into_iter().collect(),
    }
}

#[test]
fn views_are_remembered_per_person_and_shared_by_name() {
    let w = Work::demo(0);
    {
        let mut app = App::open(&w.db(), Arc::new(FixedClock::new(test_now()))).unwrap();
        let admin = sign_in(&mut app, TEAM_ADMIN);
        // The screen's remembered state (no name), and a named view shared with the team.
        let remembered = NewView { screen: "residents".into(), name: None, shared: false, state: state("current") };
        app.view_save(&admin, &remembered).unwrap();
        let changed = NewView { state: state("expired"), ..remembered.clone() };
        app.view_save(&admin, &changed).unwrap();
        let shared = NewView {
            screen: "residents".into(),
            name: Some("Move-outs this month".into()),
            shared: true,
            state: state("expired"),
        };
        app.view_save(&admin, &shared).unwrap();
        let refused = NewView { shared: true, ..remembered.clone() };
        assert_eq!(
            app.view_save(&admin, &refused).unwrap_err().code,
            ErrorCode::InvalidInput,
            "only named views are shared"
        );
        let bad = NewView { screen: "Residents!".into(), ..remembered };
        assert!(app.view_save(&admin, &bad).unwrap_err().message.contains("screen"), "a screen's name is checked");
    }
    // After a restart (the database opened again): still there, once each.
    let mut app = App::open(&w.db(), Arc::new(FixedClock::new(test_now()))).unwrap();
    let admin = sign_in(&mut app, TEAM_ADMIN);
    let mine = app.view_list(&admin, Some("residents")).unwrap();
    assert_eq!(mine.len(), 2, "{mine:?}");
    let remembered = mine.iter().find(|v| v.name.is_none()).unwrap();
    assert_eq!(remembered.state, state("expired"), "the remembered state is replaced, not added");
    assert!(remembered.mine && !remembered.shared);

    // Another person of the team sees the shared view, not the remembered state, and cannot
    // delete it.
    let user = sign_in(&mut app, TEAM_USER);
    let theirs = app.view_list(&user, None).unwrap();
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0].name.as_deref(), Some("Move-outs this month"));
    assert_eq!((theirs[0].mine, theirs[0].owner.as_str()), (false, TEAM_ADMIN.0));
    let err = app.view_delete(&user, theirs[0].id).unwrap_err();
    assert!(err.message.contains("only its owner can delete it"), "{}", err.message);
    let private = remembered.id;
    assert_eq!(
        app.view_delete(&user, private).unwrap_err().code,
        ErrorCode::NotFound,
        "another's private view is not there"
    );

    // The owner deletes it; the audit log has the saves and the delete.
    app.view_delete(&admin, theirs[0].id).unwrap();
    assert!(app.view_list(&user, None).unwrap().is_empty());
    let actions: Vec<String> = app.audit_list(&admin, None, 50).unwrap().into_iter().map(|a| a.action).collect();
    assert!(actions.iter().filter(|a| *a == "view.save").count() >= 3 && actions.contains(&"view.delete".to_string()));
}

#[test]
fn the_cli_saves_lists_and_deletes_views() {
    let w = Work::demo(0);
    let saved = w
        .run(
            Some(STAFF),
            &[
                "views",
                "save",
                "--screen",
                "residents",
                "--name",
                "Pending invitations",
                "--column",
                "name",
                "--sort",
                "start:desc",
                "--filter",
                "status=pending",
            ],
        )
        .ok()
        .json();
    assert_eq!(saved["state"]["sort"]["key"], "start");
    assert_eq!(saved["state"]["sort"]["descending"], true);
    assert_eq!(saved["state"]["filters"]["status"], "pending");
    let listed = w.run(Some(STAFF), &["views", "list"]).ok().json();
    assert_eq!(listed["views"][0]["name"], "Pending invitations");
    let id = saved["id"].as_i64().unwrap().to_string();
    w.run(Some(STAFF), &["views", "delete", &id]).ok();
    assert_eq!(w.run(Some(STAFF), &["views", "list"]).ok().json()["views"], serde_json::json!([]));
    w.run(Some(STAFF), &["views", "save", "--screen", "residents", "--filter", "oops"]).fails(2);
}
