//! First connection of a new desk (issue #16): a local team whose name differs from the
//! remote team's lists the remote teams the service account sees, links the chosen one (by
//! id or name) and then syncs, keeping its own name; through the app and the CLI, against
//! `sitemanager-sim` over real HTTP.

use crate::sync::{remote, start_sim, sync_all, ADMIN, SVC};
use residentdesk::app::remote_team::{remote_link_with, remote_teams_with};
use residentdesk::app::sync::sync_pass;
use residentdesk::sync::SyncOptions;
use residentdesk::{App, ErrorCode, SystemClock};
use sitemanager_sim::FaultConfig;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_desk_links_the_remote_team_it_chooses_and_keeps_its_name() {
    let sim = start_sim(FaultConfig::default());
    let r = remote(&sim);
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Front Office").unwrap();

    // Before: the first pass finds no remote team of the local team's name.
    let err = sync_pass(&mut app, &s, &r, &SyncOptions::fast(), None).await.unwrap_err();
    assert!(err.message.contains("does not see a remote team for \"Front Office\" (it sees: Riverside)"), "{err:?}");

    let listed = remote_teams_with(&mut app, &s, &r).await.unwrap();
    assert_eq!(listed.team, "Front Office");
    assert_eq!(listed.linked, None);
    assert_eq!(listed.teams.len(), 1);
    assert_eq!((listed.teams[0].team_id.as_str(), listed.teams[0].name.as_deref()), ("T1", Some("Riverside")));
    assert_eq!(listed.teams[0].linked_to, None);

    // An unknown choice names what the account sees, and links nothing.
    let err = remote_link_with(&mut app, &s, &r, "Summit").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    assert!(err.message.contains("it sees: Riverside (T1)"), "{}", err.message);
    assert_eq!(remote_teams_with(&mut app, &s, &r).await.unwrap().linked, None);

    // Chosen by name (another case): linked by remote id.
    let linked = remote_link_with(&mut app, &s, &r, "riverside").await.unwrap();
    assert_eq!(linked.linked.as_deref(), Some("T1"));
    assert_eq!(linked.teams[0].linked_to.as_deref(), Some("Front Office"));
    // The same choice by id again is a no-op.
    assert_eq!(remote_link_with(&mut app, &s, &r, "T1").await.unwrap().linked.as_deref(), Some("T1"));

    // The pass now pulls the remote team's sites; the local team keeps its name.
    let report = sync_all(&mut app, &s, &r).await;
    assert_eq!(report.sites_inserted, 2);
    assert_eq!(app.team_show(&s).unwrap().name, "Front Office");
    let audit = app.audit_list(&s, None, 50).unwrap();
    assert!(audit.iter().any(|a| a.action == "remote.link" && a.outcome == "ok"), "the link is audited");
}

/// A team already linked keeps its link: linking it to another remote team is refused (its
/// sites are the first team's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_team_keeps_its_link() {
    let sim = start_sim(FaultConfig::default());
    let r = remote(&sim);
    let mut app = App::open_in_memory(Arc::new(SystemClock)).unwrap();
    let s = app.init(ADMIN.0, ADMIN.1, "Riverside").unwrap();
    sync_all(&mut app, &s, &r).await;
    assert_eq!(remote_teams_with(&mut app, &s, &r).await.unwrap().linked.as_deref(), Some("T1"), "linked by name");
    {
        let tx = app.conn_mut().transaction().unwrap();
        tx.execute("UPDATE teams SET remote_id = 'T9'", []).unwrap();
        tx.commit().unwrap();
    }
    let err = remote_link_with(&mut app, &s, &r, "T1").await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("already linked to remote team T9"), "{}", err.message);
}

/// `residentdesk remote teams` and `sync --remote-team ID` on a new desk whose team has
/// another name.
#[test]
fn the_cli_lists_and_links_remote_teams() {
    let sim = start_sim(FaultConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("desk.db");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_residentdesk"))
            .arg("--db")
            .arg(&db)
            .arg("--json")
            .args(args)
            .env("RESIDENTDESK_PASSWORD", ADMIN.1)
            .env("RESIDENTDESK_REMOTE_PASSWORD", SVC.1)
            .env(residentdesk::app::sync::NO_KEYRING_ENV, "1")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let init = std::process::Command::new(env!("CARGO_BIN_EXE_residentdesk"))
        .arg("--db")
        .arg(&db)
        .args(["init", "--admin-email", ADMIN.0, "--team", "North Desk"])
        .env("RESIDENTDESK_PASSWORD", ADMIN.1)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let url = sim.base_url();
    let (code, out, err) = run(&["--as", ADMIN.0, "remote", "teams", "--remote", &url, "--remote-user", SVC.0]);
    assert_eq!(code, 0, "{err}");
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listed["team"], "North Desk");
    assert_eq!(listed["teams"][0]["team_id"], "T1");
    assert_eq!(listed["teams"][0]["name"], "Riverside");

    // A plain sync cannot link by name; with the remote team chosen it links and pulls.
    let (code, _, err) = run(&["--as", ADMIN.0, "sync"]);
    assert_ne!(code, 0);
    assert!(err.contains("it sees: Riverside"), "{err}");
    let (code, out, err) = run(&["--as", ADMIN.0, "sync", "--remote-team", "T1"]);
    assert_eq!(code, 0, "{err}");
    let pass: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(pass["report"]["sites_inserted"], 2, "{out}");
    let (code, out, _) = run(&["--as", ADMIN.0, "remote", "teams"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!((listed["linked"].as_str(), listed["teams"][0]["linked_to"].as_str()), (Some("T1"), Some("North Desk")));
}
