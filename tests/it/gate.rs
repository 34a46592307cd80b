//! One gate (issue #12): the sign-in lockout decided inside one transaction even across
//! processes, one answer and one argon2 verification for every refusal, and a CLI that stops
//! quietly when the reader of its output goes away.

use crate::fixture::*;
use residentdesk::app::auth::{argon2_verifications_on_this_thread, LOCKOUT_MINUTES, MAX_FAILURES};
use residentdesk::store::{self, audit::AuditEntry};
use std::io::{BufRead, BufReader, Read};

/// Every `sign_in` audit entry of `actor`, oldest first, read from the database file (the
/// CLI's `audit list` shows a team's entries; an unknown account belongs to no team).
fn sign_ins(w: &Work, actor: &str) -> Vec<AuditEntry> {
    let conn = store::open(&w.db()).unwrap();
    let mut entries: Vec<AuditEntry> = store::audit::list(&conn, None, None, 100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sign_in" && e.actor == actor)
        .collect();
    entries.reverse();
    entries
}

fn reasons(entries: &[AuditEntry]) -> Vec<(String, String)> {
    entries.iter().map(|e| (e.outcome.clone(), e.details["reason"].as_str().unwrap_or("").to_string())).collect()
}

#[test]
fn ten_parallel_wrong_passwords_count_five_failures_and_lock() {
    let w = Work::demo(0);
    // Ten processes started together, each with a wrong password: the count and the lock are
    // read in the transaction that writes the failure, so the sixth and later attempts find
    // the lock, whatever the interleaving.
    let children: Vec<_> =
        (0..10).map(|_| w.cli(true, Some((STAFF.0, "wrong-password-1")), &["site", "list"]).spawn().unwrap()).collect();
    let runs: Vec<Run> = children.into_iter().map(|c| Run::from(c.wait_with_output().unwrap())).collect();
    for r in &runs {
        r.fails(3);
    }
    // The first four failures say "wrong email or password"; the fifth, which locks, and
    // every later one say until when (the one answer of the lock, whoever reads it).
    let (wrong, locked_answers): (Vec<&Run>, Vec<&Run>) =
        runs.iter().partition(|r| r.error()["message"] == "wrong email or password");
    assert_eq!(wrong.len(), MAX_FAILURES as usize - 1);
    let lock_until = test_now() + chrono::Duration::minutes(LOCKOUT_MINUTES);
    for r in &locked_answers {
        assert_eq!(r.stderr, locked_answers[0].stderr, "every answer during the lock is the same");
        assert_eq!(r.error()["details"]["reason"], "sign_in_locked");
        assert_eq!(r.error()["details"]["until"], serde_json::json!(lock_until));
    }
    let text = locked_answers[0].error()["message"].as_str().unwrap().to_string();
    assert!(text.contains(&lock_until.format("%Y-%m-%d %H:%M UTC").to_string()), "{text}");
    assert!(text.contains("Team administrator"), "{text}");

    let entries = sign_ins(&w, STAFF.0);
    assert_eq!(entries.len(), 10, "{:?}", reasons(&entries));
    let failed: Vec<&AuditEntry> = entries.iter().filter(|e| e.outcome == "failed").collect();
    let counts: Vec<i64> = failed.iter().map(|e| e.details["failures"].as_i64().unwrap()).collect();
    assert_eq!(counts, (1..=MAX_FAILURES).collect::<Vec<_>>(), "exactly five failures counted, in order");
    assert!(failed.iter().all(|e| e.details["reason"] == "wrong password"));
    assert_eq!(failed.last().unwrap().details["locked"], true, "the fifth failure locks");
    let locked: Vec<&AuditEntry> = entries.iter().filter(|e| e.outcome == "denied").collect();
    assert_eq!(locked.len(), 10 - MAX_FAILURES as usize);
    let until = failed.last().unwrap().details["locked_until"].clone();
    assert!(until.is_string(), "{until}");
    for e in &locked {
        assert_eq!(e.details["reason"], "locked");
        assert_eq!(e.details["locked_until"], until, "the lock is not extended by attempts while locked");
    }
    let conn = store::open(&w.db()).unwrap();
    let staff = store::staff::by_email(&conn, STAFF.0).unwrap().unwrap();
    assert_eq!(staff.failed_attempts, MAX_FAILURES);
    assert_eq!(staff.locked_until, Some(test_now() + chrono::Duration::minutes(LOCKOUT_MINUTES)));

    // The right password is refused while the lock holds, with the same answer.
    let r = w.run(Some(STAFF), &["site", "list"]);
    assert_eq!(r.fails(3).stderr, locked_answers[0].stderr);
    assert_eq!(reasons(&sign_ins(&w, STAFF.0)).last().unwrap(), &("denied".into(), "locked".into()));
}

#[test]
fn unknown_locked_disabled_and_wrong_password_get_the_same_answer() {
    let w = Work::demo(0);
    let nobody = "nobody@demo.residentdesk.test";
    // Five wrong attempts with an account's email and five with a made-up one: the same
    // answers at the same attempts (four "wrong", then the lock with its end).
    let mut answers = Vec::new();
    for who in [TEAM_USER.0, nobody] {
        let seen: Vec<String> = (0..MAX_FAILURES)
            .map(|_| w.run(Some((who, "wrong-password-2")), &["site", "list"]).fails(3).stderr.replace(who, "EMAIL"))
            .collect();
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "the lock tells nothing about whether the account exists");
    assert!(
        answers[0][3].contains("wrong email or password") && answers[0][4].contains("blocked until"),
        "{answers:?}"
    );
    w.run(Some(OWNER), &["staff", "disable-account", STAFF.0]).ok();
    // During the lock, the right password of the account and any password of the made-up
    // email get the lock's answer alike.
    let during: Vec<String> = [TEAM_USER, (nobody, "Demo-Staff-2026")]
        .iter()
        .map(|who| w.run(Some(*who), &["site", "list"]).fails(3).stderr.replace(who.0, "EMAIL"))
        .collect();
    assert_eq!(during[0], during[1]);
    assert_eq!(during[0], answers[0][4], "the lock is not extended by attempts while locked");
    // The right password of the disabled account, a wrong one for an active account, any
    // password for another account that does not exist.
    let attempts = [
        ("unknown account", ("someone@demo.residentdesk.test", "Demo-Staff-2026")),
        ("disabled", STAFF),
        ("wrong password", (LOCAL_ADMIN.0, "wrong-password-3")),
    ];
    for json in [true, false] {
        let runs: Vec<Run> = attempts
            .iter()
            .map(|(_, who)| Run::from(w.cli(json, Some(*who), &["site", "list"]).output().unwrap()))
            .collect();
        for (r, (reason, _)) in runs.iter().zip(&attempts) {
            assert_eq!(r.code, 3, "{reason}: {r:?}");
            assert_eq!(r.stderr, runs[0].stderr, "{reason} answers like an unknown account (json: {json})");
            assert!(r.stdout.is_empty());
        }
        let expected = if json {
            "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"wrong email or password\"}}\n"
        } else {
            "error: wrong email or password\n"
        };
        assert_eq!(runs[0].stderr, expected);
    }
    // The audit log keeps what the answer hides.
    let mut all = attempts.to_vec();
    all.push(("locked", TEAM_USER));
    all.push(("unknown account, locked", (nobody, "")));
    for (reason, (email, _)) in all {
        let last = sign_ins(&w, email).pop().unwrap_or_else(|| panic!("{email} has no sign-in entry"));
        let outcome = if reason != "unknown account" && reason != "wrong password" { "denied" } else { "failed" };
        assert_eq!((last.outcome.as_str(), last.details["reason"].as_str()), (outcome, Some(reason)), "{email}");
        if reason.contains("locked") {
            assert!(last.details["locked_until"].is_string());
        }
    }
}

#[test]
fn every_sign_in_answer_costs_one_argon2_verification() {
    let (mut app, clock) = demo_app(0);
    let owner = sign_in(&mut app, OWNER);
    app.account_disable(&owner, STAFF.0, true).unwrap();
    for _ in 0..MAX_FAILURES {
        assert!(app.sign_in(TEAM_USER.0, "wrong-password-4").is_err());
    }
    let mut verifications = |email: &str, password: &str| {
        let before = argon2_verifications_on_this_thread();
        let result = app.sign_in(email, password).map(|_| ()).map_err(|e| e.message);
        (argon2_verifications_on_this_thread() - before, result)
    };
    let refused = Err("wrong email or password".to_string());
    let until = (test_now() + chrono::Duration::minutes(LOCKOUT_MINUTES)).format("%Y-%m-%d %H:%M UTC");
    let locked = Err(format!(
        "too many wrong passwords for {}: signing in with it is blocked until {until}; try again then, or ask a Team \
         administrator to reset your password",
        TEAM_USER.0
    ));
    assert_eq!(verifications("nobody@demo.residentdesk.test", "whatever-password"), (1, refused.clone()));
    assert_eq!(verifications(TEAM_USER.0, TEAM_USER.1), (1, locked.clone()), "locked, right password");
    assert_eq!(verifications(TEAM_USER.0, "wrong-password-4"), (1, locked), "locked, wrong password");
    assert_eq!(verifications(STAFF.0, STAFF.1), (1, refused.clone()), "disabled");
    assert_eq!(verifications(LOCAL_ADMIN.0, "wrong-password-4"), (1, refused.clone()), "wrong password");
    assert_eq!(verifications(LOCAL_ADMIN.0, LOCAL_ADMIN.1), (1, Ok(())), "right password");
    // Once the lock has run out, the right password opens and the count starts afresh.
    clock.advance(chrono::Duration::minutes(LOCKOUT_MINUTES + 1));
    assert_eq!(verifications(TEAM_USER.0, TEAM_USER.1), (1, Ok(())));
    let staff = store::staff::by_email(app.conn(), TEAM_USER.0).unwrap().unwrap();
    assert_eq!((staff.failed_attempts, staff.locked_until), (0, None));
}

#[test]
fn an_older_versions_password_hash_is_rewritten_at_the_next_right_password() {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let (mut app, _clock) = demo_app(0);
    // A hash as an earlier version made it (argon2id, 19 MiB, 2 passes).
    let old = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(19 * 1024, 2, 1, None).unwrap(),
    )
    .hash_password(STAFF.1.as_bytes(), &SaltString::encode_b64(b"an-older-salt-16").unwrap())
    .unwrap()
    .to_string();
    let stored = |app: &residentdesk::App| {
        app.conn()
            .query_row("SELECT password_hash, password_temporary_until FROM staff WHERE email = ?1", [STAFF.0], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .unwrap()
    };
    app.conn().execute("UPDATE staff SET password_hash = ?2 WHERE email = ?1", [STAFF.0, &old]).unwrap();
    // A wrong password leaves it as it was.
    assert!(app.sign_in(STAFF.0, "wrong-password-4").is_err());
    assert_eq!(stored(&app).0, old);
    // The right one opens, once, and the hash gets today's parameters.
    let before = stored(&app).1;
    app.sign_in(STAFF.0, STAFF.1).unwrap();
    let (hash, temporary) = stored(&app);
    assert_ne!(hash, old);
    assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
    assert_eq!(temporary, before, "rewriting the hash made the password temporary");
    // The same password opens with the new hash; another does not.
    app.sign_in(STAFF.0, STAFF.1).unwrap();
    assert!(app.sign_in(STAFF.0, "wrong-password-4").is_err());
    assert_eq!(stored(&app).0, hash, "a second sign-in rewrote the hash again");
}

/// Runs the CLI with its output into a pipe whose reader takes one line and goes away.
/// Returns the exit code and stderr, after checking that a full run prints more than the
/// pipe could hold (else the writer would never see the reader go).
fn read_one_line_then_close(w: &Work, json: bool, who: (&str, &str), args: &[&str]) -> (i32, String) {
    let full = Run::from(w.cli(json, Some(who), args).output().unwrap());
    full.ok();
    // Far more than a pipe's buffer (64 KiB on Linux) and the reader's 8 KiB.
    assert!(full.stdout.len() > 512 << 10, "the listing must overflow a pipe: {} bytes", full.stdout.len());
    let mut child = w.cli(json, Some(who), args).spawn().unwrap();
    let mut first = String::new();
    {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        reader.read_line(&mut first).unwrap();
    } // the read end closes here
    assert!(!first.is_empty());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    (status.code().unwrap_or(-1), stderr)
}

#[test]
fn the_cli_stops_quietly_when_its_reader_goes_away() {
    // One site of ~6,300 residents: ~0.8 MB as a table printed line by line, ~4 MB as one
    // JSON document.
    let w = Work::new();
    w.run(None, &["demo", "seed", "--residents", "2000", "--seed", "7", "--big-site", "6000"]).ok();
    let args = ["resident", "list", "--site", "Maple Court", "--limit", "100000"];
    for json in [false, true] {
        let (code, stderr) = read_one_line_then_close(&w, json, TEAM_ADMIN, &args);
        assert!(!stderr.contains("panicked"), "json {json}: {stderr}");
        assert_eq!((code, stderr.as_str()), (0, ""), "json {json}: a closed pipe ends quietly with 0");
    }
    // As a person types it: `residentdesk ... | head -1` in a shell, under pipefail.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(r#"set -o pipefail; "$0" --db "$1" --as "$2" resident list --site "Maple Court" --limit 100000 | head -1"#)
        .arg(env!("CARGO_BIN_EXE_residentdesk"))
        .arg(w.db())
        .arg(TEAM_ADMIN.0)
        .env("RESIDENTDESK_PASSWORD", TEAM_ADMIN.1)
        .env("RESIDENTDESK_NOW", &w.now)
        .env_remove("RESIDENTDESK_TOKEN")
        .env_remove("RESIDENTDESK_DB")
        .output()
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!((out.status.code(), stderr.as_ref()), (Some(0), ""), "| head -1 under pipefail");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
