//! Contract tests: a real HTTP client (reqwest, rustls) against an in-process simulator,
//! walking the quick-start flow and checking each rule and each fault kind.

use base64::Engine;
use chrono::{DateTime, Duration, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sitemanager_sim::{FaultConfig, FaultKind, ScriptedFault, Sim, SimConfig, SimHandle};

const ADMIN: (&str, &str) = ("team.admin@demo.sim.test", "team-admin-pass");
const STAFF: (&str, &str) = ("staff.user@demo.sim.test", "staff-user-pass");
const TEAM_USER: (&str, &str) = ("team.user@demo.sim.test", "team-user-pass");

struct Api {
    http: reqwest::Client,
    base: String,
    control: String,
    token: String,
}

struct Reply {
    status: StatusCode,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

impl Reply {
    fn error(&self) -> String {
        self.body["Error"].as_str().unwrap_or_default().to_string()
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().use_rustls_tls().build().unwrap()
}

async fn token_for(sim: &SimHandle, (email, password): (&str, &str)) -> String {
    let cred = base64::engine::general_purpose::STANDARD.encode(format!("{email}:{password}"));
    let resp = client()
        .post(format!("{}/oauth/token", sim.base_url()))
        .header("Authorization", format!("Password {cred}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["token_type"], "Bearer");
    v["access_token"].as_str().unwrap().to_string()
}

async fn login(sim: &SimHandle, who: (&str, &str)) -> Api {
    let token = token_for(sim, who).await;
    Api { http: client(), base: sim.base_url(), control: sim.control_url(), token }
}

impl Api {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let url = if path.starts_with("/__sim") {
            format!("{}{}", self.control.trim_end_matches("/__sim"), path)
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text:?}"));
        Reply { status, body, headers }
    }
    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body)).await
    }
    async fn post_empty(&self, path: &str) -> Reply {
        self.send(Method::POST, path, None).await
    }
    async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PUT, path, Some(body)).await
    }
    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> Reply {
        self.send(Method::DELETE, path, None).await
    }
}

/// `/team/{t}/site/{s}` of the demo site called `name`.
fn site_path(sim: &SimHandle, name: &str) -> String {
    let data = sim.data();
    let site = data.sites.iter().find(|s| s.name == name).unwrap();
    format!("/team/{}/site/{}", site.team_id, site.site_id)
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339()
}

fn resident_body(sim: &SimHandle, email: &str, unit: (&str, &str, &str)) -> Value {
    json!({
        "FirstName": "Chris", "LastName": "Wilson", "Email": email, "PhoneNumber": "543-678-9012",
        "Building": unit.0, "Floor": unit.1, "Unit": unit.2,
        "ActivationDateUTC": iso(sim.now() - Duration::days(1)), "DeactivationDateUTC": null
    })
}

async fn create(api: &Api, site: &str, body: Value) -> Value {
    let r = api.post(&format!("{site}/resident"), body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["Error"].is_null());
    r.body["Residents"][0].clone()
}

fn start() -> SimHandle {
    Sim::start(SimConfig::demo()).unwrap()
}

#[tokio::test]
async fn quick_start_flow_end_to_end() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let teams = api.get("/team").await;
    assert_eq!(teams.status, 200);
    let team_id = teams.body["Teams"][0]["TeamId"].as_str().unwrap().to_string();
    assert_eq!(teams.body["Teams"].as_array().unwrap().len(), 2);
    let sites = api.get(&format!("/team/{team_id}/site")).await;
    let hudson = sites.body["Sites"].as_array().unwrap().iter().find(|s| s["Name"] == "Hudson Lofts").unwrap().clone();
    assert_eq!(hudson["SiteType"], "PPK-C");
    assert_eq!(hudson["TimeZone"], "America/Chicago");
    let site = format!("/team/{team_id}/site/{}", hudson["SiteId"].as_str().unwrap());
    let maps = api.get(&format!("{site}/mappings")).await;
    let m = &maps.body["Mappings"][17];
    for k in ["Building", "Floor", "Unit", "Passphrase", "SSID", "Vlan"] {
        assert!(m[k].is_string(), "{k} in {m}");
    }
    let (b, f, u) = (m["Building"].as_str().unwrap(), m["Floor"].as_str().unwrap(), m["Unit"].as_str().unwrap());

    // Add.
    let r = create(&api, &site, resident_body(&sim, "New.Person@Example.com", (b, f, u))).await;
    let id = r["ResidentId"].as_str().unwrap().to_string();
    assert_eq!(r["UUID"], r["ResidentId"]);
    assert_eq!(r["Email"], "new.person@example.com");
    assert_eq!(r["Status"], json!(["current", "pending"]));
    assert_eq!(r["SSID"], "Hudson Lofts");
    assert_eq!(r["Phone"], "543-678-9012");
    assert!(r["OnboardedAt"].is_null());
    // Field for field like the vendor's example.
    let mut keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "ActivationDate",
            "ActivationDateUTC",
            "Building",
            "DeactivationDate",
            "DeactivationDateUTC",
            "Email",
            "FirstName",
            "Floor",
            "LastName",
            "Mobile",
            "OnboardedAt",
            "Phone",
            "ResidentId",
            "SSID",
            "ServiceAreaNumber",
            "Status",
            "UUID",
            "Unit"
        ]
    );
    assert!(r["ActivationDateUTC"].as_str().unwrap().ends_with("+00:00"));
    assert_eq!(r["ActivationDate"].as_str().unwrap().len(), 19);

    // List and get.
    let list = api.get(&format!("{site}/resident")).await;
    assert!(list.body["Error"].is_null());
    assert_eq!(list.body["Residents"].as_array().unwrap().len(), 9);
    let one = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(one.body["Residents"].as_array().unwrap().len(), 1);
    assert_eq!(one.body["Residents"][0]["ResidentId"], id.as_str());

    // Update (name) — a changed Email is ignored.
    let mut upd = resident_body(&sim, "other@example.com", (b, f, u));
    upd["FirstName"] = json!("Christopher");
    let put = api.put(&format!("{site}/resident/{id}"), upd).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["Residents"][0]["FirstName"], "Christopher");
    assert_eq!(put.body["Residents"][0]["Email"], "new.person@example.com");

    // Invite while pending → invitation; onboard; invite → Wi-Fi details.
    let inv = api.post_empty(&format!("{site}/resident/{id}/invite")).await;
    assert_eq!(inv.body, json!({"Error": null, "Result": "Invitation sent"}));
    let on = api.post_empty(&format!("/__sim/onboard/{id}")).await;
    assert_eq!(on.status, 200);
    assert_eq!(on.body["Residents"][0]["Status"], json!(["current"]));
    assert!(on.body["Residents"][0]["OnboardedAt"].is_string());
    let inv = api.post_empty(&format!("{site}/resident/{id}/invite")).await;
    assert_eq!(inv.body["Result"], "WiFi details sent");

    // Suspend / unsuspend.
    let s = api.patch(&format!("{site}/resident/{id}/status"), json!({"Status": "Disabled"})).await;
    assert_eq!(s.status, 200);
    assert!(s.body["Error"].is_null());
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["current", "suspended"]));
    api.patch(&format!("{site}/resident/{id}/status"), json!({"Status": "Active"})).await;
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["current"]));

    // PSK reset on a PPK-C site.
    let psk = api.post_empty(&format!("{site}/resident/{id}/pskreset")).await;
    assert_eq!(psk.status, 200);
    assert!(psk.body["Result"].is_string());

    // Terminate → expired, still listed; purge refused; gone after the grace period.
    let t = api.delete(&format!("{site}/resident/{id}")).await;
    assert_eq!(t.body, json!({"Error": null, "Result": "Terminated"}));
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["expired"]));
    let p = api.delete(&format!("{site}/resident/{id}/purge")).await;
    assert_eq!(p.status, 400);
    sim.advance(Duration::days(32));
    let api = login(&sim, ADMIN).await;
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.status, 404);
    sim.shutdown();
}

#[tokio::test]
async fn token_errors_are_401() {
    let sim = Sim::start(SimConfig::demo().token_lifetime_secs(60)).unwrap();
    let url = format!("{}/oauth/token", sim.base_url());
    let http = client();
    let r = http.post(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let bad = base64::engine::general_purpose::STANDARD.encode("team.admin@demo.sim.test:wrong");
    let r = http.post(&url).header("Authorization", format!("Password {bad}")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert!(v["Error"].as_str().unwrap().contains("invalid"));
    let good = base64::engine::general_purpose::STANDARD.encode("team.admin@demo.sim.test:team-admin-pass");
    let r = http.post(&url).header("Authorization", format!("Basic {good}")).send().await.unwrap();
    assert_eq!(r.status(), 401, "the scheme is Password, not Basic");

    let team = format!("{}/team", sim.base_url());
    assert_eq!(http.get(&team).send().await.unwrap().status(), 401);
    assert_eq!(http.get(&team).bearer_auth("nonsense").send().await.unwrap().status(), 401);
    let api = login(&sim, ADMIN).await;
    let r = api.get("/team").await;
    assert_eq!(r.status, 200);
    sim.advance(Duration::seconds(61));
    let r = api.get("/team").await;
    assert_eq!(r.status, 401);
    assert!(r.error().contains("expired"));
    // Renewal works.
    let api = login(&sim, ADMIN).await;
    assert_eq!(api.get("/team").await.status, 200);
    // Forced expiry through the control API.
    api.post_empty("/__sim/tokens/expire").await;
    assert_eq!(api.get("/team").await.status, 401);
}

#[tokio::test]
async fn staff_sees_only_its_sites_and_403_outside_scope() {
    let sim = start();
    let staff = login(&sim, STAFF).await;
    let data = sim.data();
    let teams = staff.get("/team").await;
    assert_eq!(teams.body["Teams"].as_array().unwrap().len(), 2, "its two sites are on two teams");
    let t1 = &data.teams[0].team_id;
    let sites = staff.get(&format!("/team/{t1}/site")).await;
    let names: Vec<&str> =
        sites.body["Sites"].as_array().unwrap().iter().map(|s| s["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Hudson Lofts"]);
    let lakeview = site_path(&sim, "Lakeview Commons");
    let r = staff.get(&format!("{lakeview}/resident")).await;
    assert_eq!(r.status, 403);
    assert!(r.error().contains("not a member"));
    assert_eq!(staff.get(&format!("{}/resident", site_path(&sim, "Hudson Lofts"))).await.status, 200);
    assert_eq!(staff.get(&format!("/team/{t1}/site/no-such-site/resident")).await.status, 404);
    assert_eq!(staff.get("/team/no-such-team/site").await.status, 404);

    let team_user = login(&sim, TEAM_USER).await;
    let sites = team_user.get(&format!("/team/{t1}/site")).await;
    assert_eq!(sites.body["Sites"].as_array().unwrap().len(), 3);
    let t2 = &data.teams[1].team_id;
    assert_eq!(team_user.get(&format!("/team/{t2}/site")).await.status, 403);
    assert_eq!(team_user.get(&format!("{}/resident", site_path(&sim, "Bayside Flats"))).await.status, 403);
}

#[tokio::test]
async fn building_floor_unit_must_match_a_mapping() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = api.post(&format!("{site}/resident"), resident_body(&sim, "a@example.com", ("Hudson", "1", "999"))).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("mappings"), "{}", r.error());
}

#[tokio::test]
async fn one_resident_per_unit_per_date_and_expired_frees_the_unit() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let unit = ("Hudson", "3", "306");
    let mut first = resident_body(&sim, "first@example.com", unit);
    first["DeactivationDateUTC"] = json!(iso(sim.now() + Duration::days(30)));
    let a = create(&api, &site, first).await;
    let r = api.post(&format!("{site}/resident"), resident_body(&sim, "second@example.com", unit)).await;
    assert_eq!(r.status, 409);
    assert!(r.error().contains("occupied"));
    // A tenancy starting when the first ends does not overlap.
    let mut later = resident_body(&sim, "later@example.com", unit);
    later["ActivationDateUTC"] = json!(iso(sim.now() + Duration::days(30)));
    create(&api, &site, later).await;
    // Terminating the first frees the unit before the later tenancy.
    api.delete(&format!("{site}/resident/{}", a["ResidentId"].as_str().unwrap())).await;
    let mut mid = resident_body(&sim, "mid@example.com", unit);
    mid["ActivationDateUTC"] = json!(iso(sim.now()));
    mid["DeactivationDateUTC"] = json!(iso(sim.now() + Duration::days(29)));
    create(&api, &site, mid).await;
    // End before start is refused.
    let mut bad = resident_body(&sim, "bad@example.com", ("Hudson", "3", "305"));
    bad["DeactivationDateUTC"] = json!(iso(sim.now() - Duration::days(5)));
    let r = api.post(&format!("{site}/resident"), bad).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("DeactivationDateUTC"));
}

#[tokio::test]
async fn email_is_unique_across_the_whole_system_including_expired() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let hudson = site_path(&sim, "Hudson Lofts");
    let bayside = site_path(&sim, "Bayside Flats");
    let r = create(&api, &hudson, resident_body(&sim, "dup@example.com", ("Hudson", "3", "301"))).await;
    // Another team's site, different case.
    let again =
        api.post(&format!("{bayside}/resident"), resident_body(&sim, "DUP@example.com", ("Bay", "3", "304"))).await;
    assert_eq!(again.status, 409);
    assert!(again.error().contains("dup@example.com"));
    // Still taken while expired.
    api.delete(&format!("{hudson}/resident/{}", r["ResidentId"].as_str().unwrap())).await;
    let again =
        api.post(&format!("{bayside}/resident"), resident_body(&sim, "dup@example.com", ("Bay", "3", "304"))).await;
    assert_eq!(again.status, 409);
    // A bad address is a 400 naming Email.
    let bad =
        api.post(&format!("{bayside}/resident"), resident_body(&sim, "not-an-address", ("Bay", "3", "304"))).await;
    assert_eq!(bad.status, 400);
    assert!(bad.error().contains("Email"));
}

#[tokio::test]
async fn terminate_sets_deactivation_to_the_day_before_in_site_time_zone() {
    // 03:00 UTC on Nov 11 is still Nov 10 in Chicago → deactivation Nov 9 (local midnight).
    let now = Utc.with_ymd_and_hms(2026, 11, 11, 3, 0, 0).unwrap();
    let sim = Sim::start(SimConfig::demo().frozen_at(now)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    // A resident whose access began well before the day before today.
    let mut body = resident_body(&sim, "t@example.com", ("Hudson", "3", "303"));
    body["ActivationDateUTC"] = json!(iso(now - Duration::days(10)));
    let r = create(&api, &site, body).await;
    let id = r["ResidentId"].as_str().unwrap();
    api.delete(&format!("{site}/resident/{id}")).await;
    let got = api.get(&format!("{site}/resident/{id}")).await.body["Residents"][0].clone();
    assert_eq!(got["DeactivationDate"], "2026-11-09T00:00:00");
    assert_eq!(got["DeactivationDateUTC"], "2026-11-09T06:00:00+00:00");
    assert_eq!(got["Status"], json!(["expired"]));
    // Terminating again is a harmless no-op.
    let again = api.delete(&format!("{site}/resident/{id}")).await;
    assert_eq!(again.body["Result"], "Terminated");
    // The London site uses its own zone: 2026-11-11 (UTC 03:00 = 03:00 GMT) → Nov 10 00:00 GMT.
    let harbour = site_path(&sim, "Harbour House");
    let mut body = resident_body(&sim, "l@example.com", ("Harbour", "2", "204"));
    body["ActivationDateUTC"] = json!(iso(now - Duration::days(10)));
    let r = create(&api, &harbour, body).await;
    let id = r["ResidentId"].as_str().unwrap();
    api.delete(&format!("{harbour}/resident/{id}")).await;
    let got = api.get(&format!("{harbour}/resident/{id}")).await.body["Residents"][0].clone();
    assert_eq!(got["DeactivationDateUTC"], "2026-11-10T00:00:00+00:00");
    // Access that began after the day before today (Nov 9 21:00 in Chicago), or has not
    // begun: the end is never before the start — end = start, an empty stay, expired.
    for (email, unit, start) in
        [("late@example.com", "304", now - Duration::days(1)), ("soon@example.com", "305", now + Duration::days(20))]
    {
        let mut body = resident_body(&sim, email, ("Hudson", "3", unit));
        body["ActivationDateUTC"] = json!(iso(start));
        let r = create(&api, &site, body).await;
        let id = r["ResidentId"].as_str().unwrap();
        api.delete(&format!("{site}/resident/{id}")).await;
        let got = api.get(&format!("{site}/resident/{id}")).await.body["Residents"][0].clone();
        assert_eq!(got["DeactivationDateUTC"], got["ActivationDateUTC"], "{email}");
        assert_eq!(got["Status"], json!(["expired"]), "{email}");
        // The stored interval is valid: a PUT of it unchanged (a rename) is accepted.
        let mut rename = resident_body(&sim, email, ("Hudson", "3", unit));
        rename["FirstName"] = json!("Renamed");
        rename["ActivationDateUTC"] = got["ActivationDateUTC"].clone();
        rename["DeactivationDateUTC"] = got["DeactivationDateUTC"].clone();
        let put = api.put(&format!("{site}/resident/{id}"), rename).await;
        assert_eq!(put.status, 200, "{email}: {}", put.body);
    }
}

#[tokio::test]
async fn expired_residents_are_purged_automatically_after_31_days() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "grace@example.com", ("Hudson", "3", "302"))).await;
    let id = r["ResidentId"].as_str().unwrap().to_string();
    api.delete(&format!("{site}/resident/{id}")).await;
    sim.advance(Duration::days(29));
    let api = login(&sim, ADMIN).await;
    let list = api.get(&format!("{site}/resident")).await;
    assert!(list.body["Residents"].as_array().unwrap().iter().any(|r| r["ResidentId"] == id.as_str()));
    let adv = api.post("/__sim/clock/advance", json!({"days": 3})).await;
    assert_eq!(adv.status, 200);
    let api = login(&sim, ADMIN).await;
    assert_eq!(api.get(&format!("{site}/resident/{id}")).await.status, 404);
    assert!(sim.data().auto_purged.contains(&id));
    // The email is free again.
    create(&api, &site, resident_body(&sim, "grace@example.com", ("Hudson", "3", "302"))).await;
}

#[tokio::test]
async fn purge_removes_at_once_but_never_an_expired_resident() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "p@example.com", ("Hudson", "3", "304"))).await;
    let id = r["ResidentId"].as_str().unwrap();
    let p = api.delete(&format!("{site}/resident/{id}/purge")).await;
    assert_eq!(p.body, json!({"Error": null, "Result": "Deleted"}));
    assert_eq!(api.get(&format!("{site}/resident/{id}")).await.status, 404);
    assert_eq!(
        api.put(&format!("{site}/resident/{id}"), resident_body(&sim, "p@example.com", ("Hudson", "3", "304")))
            .await
            .status,
        404
    );
    // A purged resident can be re-added as new.
    let again = create(&api, &site, resident_body(&sim, "p@example.com", ("Hudson", "3", "304"))).await;
    let id2 = again["ResidentId"].as_str().unwrap();
    assert_ne!(id, id2);
    api.delete(&format!("{site}/resident/{id2}")).await;
    let p = api.delete(&format!("{site}/resident/{id2}/purge")).await;
    assert_eq!(p.status, 400);
    assert!(p.error().contains("expired"));
}

#[tokio::test]
async fn expired_resident_is_reactivated_by_put() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "back@example.com", ("Hudson", "3", "305"))).await;
    let id = r["ResidentId"].as_str().unwrap();
    api.delete(&format!("{site}/resident/{id}")).await;
    // Re-adding is refused (the email still exists) ...
    let again =
        api.post(&format!("{site}/resident"), resident_body(&sim, "back@example.com", ("Hudson", "3", "305"))).await;
    assert_eq!(again.status, 409);
    // ... but PUT with a future end reactivates.
    let mut body = resident_body(&sim, "back@example.com", ("Hudson", "3", "305"));
    body["DeactivationDateUTC"] = json!(iso(sim.now() + Duration::days(100)));
    let put = api.put(&format!("{site}/resident/{id}"), body).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["Residents"][0]["Status"], json!(["current", "pending"]));
}

#[tokio::test]
async fn suspend_and_unsuspend_are_no_ops_outside_their_states_and_status_is_strict() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "s@example.com", ("Hudson", "3", "306"))).await;
    let id = r["ResidentId"].as_str().unwrap();
    let path = format!("{site}/resident/{id}/status");
    // Pending: suspend does nothing, and says no error.
    let s = api.patch(&path, json!({"Status": "Disabled"})).await;
    assert_eq!(s.status, 200);
    assert!(s.body["Error"].is_null());
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["current", "pending"]));
    // Unsuspend of a non-suspended resident: no-op too.
    assert_eq!(api.patch(&path, json!({"Status": "Active"})).await.status, 200);
    // Only Active / Disabled, exactly.
    for bad in [json!({"Status": "Suspended"}), json!({"Status": "active"}), json!({"Status": 1}), json!({})] {
        let r = api.patch(&path, bad.clone()).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.error().contains("Status"), "{bad}: {}", r.error());
    }
}

#[tokio::test]
async fn psk_reset_only_on_ppk_c_and_ppk_d_sites() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    for (name, unit, ok) in [
        ("Hudson Lofts", ("Hudson", "3", "301"), true),
        ("Lakeview Commons", ("South", "2", "205"), true),
        ("Canyon Court", ("Canyon", "2", "206"), false),
    ] {
        let site = site_path(&sim, name);
        let r = create(&api, &site, resident_body(&sim, &format!("psk.{}@example.com", unit.2), unit)).await;
        let res = api.post_empty(&format!("{site}/resident/{}/pskreset", r["ResidentId"].as_str().unwrap())).await;
        if ok {
            assert_eq!(res.status, 200, "{name}");
        } else {
            assert_eq!(res.status, 400, "{name}");
            assert!(res.error().contains("PPK-C"));
        }
    }
    let mails = sim.data().mail;
    assert_eq!(mails.iter().filter(|m| m.kind == "psk_reset").count(), 2);
}

#[tokio::test]
async fn invite_sends_invitation_or_wifi_details_by_onboarding() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "i@example.com", ("Hudson", "3", "302"))).await;
    let id = r["ResidentId"].as_str().unwrap();
    api.post_empty(&format!("{site}/resident/{id}/invite")).await;
    sim.onboard(id).unwrap();
    api.post_empty(&format!("{site}/resident/{id}/invite")).await;
    let kinds: Vec<String> =
        sim.data().mail.iter().filter(|m| m.to == "i@example.com").map(|m| m.kind.clone()).collect();
    assert_eq!(kinds, ["invitation", "wifi_details"]);
    api.delete(&format!("{site}/resident/{id}")).await;
    assert_eq!(api.post_empty(&format!("{site}/resident/{id}/invite")).await.status, 400);
}

async fn poll_job(api: &Api, path: &str) -> Value {
    api.get(path).await.body
}

#[tokio::test]
async fn import_job_progresses_over_time_and_reports_per_row() {
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let sim = Sim::start(SimConfig::demo().frozen_at(t0).job_duration_ms(10_000)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let rows = json!({"Residents": [
        resident_body(&sim, "imp1@example.com", ("Hudson", "3", "301")),
        resident_body(&sim, "imp2@example.com", ("Hudson", "3", "999")),
        resident_body(&sim, "imp3@example.com", ("Hudson", "3", "302")),
        {"FirstName": "X", "LastName": 5},
    ]});
    let r = api.post(&format!("{site}/resident/import"), rows).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let job = r.body["job_id"].as_str().unwrap().to_string();
    let path = format!("{site}/resident/import/{job}");
    let s = poll_job(&api, &path).await;
    assert_eq!(s["status"], "started");
    assert_eq!(s["progress"].as_f64(), Some(0.0));
    assert_eq!(s["total"], 4);
    assert!(s.get("result").is_none());
    sim.advance(Duration::seconds(5));
    let s = poll_job(&api, &path).await;
    assert_eq!(s["status"], "started");
    assert_eq!(s["progress"].as_f64(), Some(50.0));
    assert_eq!(s["success"].as_u64().unwrap() + s["failed"].as_u64().unwrap(), 2);
    sim.advance(Duration::seconds(5));
    let s = poll_job(&api, &path).await;
    assert_eq!(s["status"], "finished");
    assert_eq!(s["progress"].as_f64(), Some(100.0));
    assert_eq!((s["success"].as_u64(), s["failed"].as_u64()), (Some(2), Some(2)));
    let ok = s["result"]["success"].as_array().unwrap();
    assert_eq!(ok[0]["result"], "Imported");
    assert!(ok[0]["ResidentId"].is_string());
    let failed = s["result"]["failed"].as_array().unwrap();
    assert_eq!(failed[0]["Email"], "imp2@example.com");
    assert_eq!(failed[0]["field"], "Unit");
    assert_eq!(failed[1]["field"], "LastName");
    // The owner got the results e-mail, and the job is not visible from another site.
    assert!(sim.data().mail.iter().any(|m| m.kind == "job_report" && m.to == ADMIN.0));
    let other = site_path(&sim, "Canyon Court");
    assert_eq!(api.get(&format!("{other}/resident/import/{job}")).await.status, 404);
    assert_eq!(api.get(&format!("{site}/resident/bulkaction/{job}")).await.status, 404);
    // Finished jobs are kept for a week.
    sim.advance(Duration::days(6));
    let api = login(&sim, ADMIN).await;
    assert_eq!(api.get(&path).await.status, 200);
    sim.advance(Duration::days(2));
    let api = login(&sim, ADMIN).await;
    assert_eq!(api.get(&path).await.status, 404);
    // Bad import bodies.
    assert_eq!(api.post(&format!("{site}/resident/import"), json!({"Residents": []})).await.status, 400);
    assert_eq!(api.post(&format!("{site}/resident/import"), json!({"Residents": {}})).await.status, 400);
    assert_eq!(api.post(&format!("{site}/resident/import"), json!({"Rows": []})).await.status, 400);
}

#[tokio::test]
async fn bulk_actions_act_on_the_statuses_the_contract_lists() {
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let sim = Sim::start(SimConfig::demo().frozen_at(t0).job_duration_ms(1_000)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let site_id = site.rsplit('/').next().unwrap().to_string();
    let now = sim.now();
    let current_non_pending: Vec<String> = sim
        .data()
        .residents
        .values()
        .filter(|r| r.site_id == site_id && r.flags(now).iter().map(|f| f.as_str()).collect::<Vec<_>>() == ["current"])
        .map(|r| r.resident_id.clone())
        .collect();
    assert_eq!(current_non_pending.len(), 2);
    // Without ResidentIds: every eligible resident of the site.
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "suspend"})).await;
    assert_eq!(r.status, 200);
    let job = r.body["job_id"].as_str().unwrap().to_string();
    let path = format!("{site}/resident/bulkaction/{job}");
    assert_eq!(poll_job(&api, &path).await["status"], "started");
    sim.advance(Duration::seconds(2));
    let s = poll_job(&api, &path).await;
    assert_eq!(s["status"], "finished");
    assert_eq!(s["action"], "suspend");
    assert_eq!(s["result"]["action"], "suspend");
    assert_eq!(s["total"], 2);
    assert_eq!(s["success"], 2);
    for item in s["result"]["success"].as_array().unwrap() {
        assert_eq!(item["result"], "Suspended");
        assert_eq!(item["Status"], json!(["current", "suspended"]));
    }
    // With ResidentIds: ineligible and unknown ones fail, with the field.
    let pending: String = sim
        .data()
        .residents
        .values()
        .find(|r| r.site_id == site_id && r.flags(now).is_pending())
        .unwrap()
        .resident_id
        .clone();
    let ids = json!([current_non_pending[0], pending, "no-such-id"]);
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "unsuspend", "ResidentIds": ids})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    sim.advance(Duration::seconds(2));
    let s = poll_job(&api, &format!("{site}/resident/bulkaction/{job}")).await;
    assert_eq!((s["success"].as_u64(), s["failed"].as_u64()), (Some(1), Some(2)));
    let failed = s["result"]["failed"].as_array().unwrap();
    assert_eq!(failed[0]["field"], "Status");
    assert_eq!(failed[1]["field"], "ResidentIds");
    // Resend-invites names action_invite.
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "resend-invites"})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    sim.advance(Duration::seconds(2));
    let s = poll_job(&api, &format!("{site}/resident/bulkaction/{job}")).await;
    assert_eq!(s["result"]["action_invite"], "resend-invites");
    let results: Vec<&str> =
        s["result"]["success"].as_array().unwrap().iter().map(|i| i["result"].as_str().unwrap()).collect();
    assert!(results.contains(&"Invitation sent") && results.contains(&"WiFi details sent"), "{results:?}");
    // onboard-now makes scheduled residents current and pending; terminate-purge removes.
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "onboard-now"})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    sim.advance(Duration::seconds(2));
    let s = poll_job(&api, &format!("{site}/resident/bulkaction/{job}")).await;
    assert_eq!(s["success"], 2);
    assert_eq!(s["result"]["success"][0]["Status"], json!(["current", "pending"]));
    let before = api.get(&format!("{site}/resident")).await.body["Residents"].as_array().unwrap().len();
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "terminate-purge"})).await;
    let job = r.body["job_id"].as_str().unwrap().to_string();
    sim.advance(Duration::seconds(2));
    let s = poll_job(&api, &format!("{site}/resident/bulkaction/{job}")).await;
    let after = api.get(&format!("{site}/resident")).await.body["Residents"].as_array().unwrap().len();
    assert_eq!(before - after, s["success"].as_u64().unwrap() as usize);
    assert_eq!(after, 1, "only the expired resident is left");
    // Unknown actions and unknown fields are 400.
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "delete-all"})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("delete-all"));
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "suspend", "Ids": []})).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("Ids"));
}

#[tokio::test]
async fn bad_input_is_400_or_404_with_an_error_body_never_500() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let url = format!("{}{site}/resident", sim.base_url());
    let send_raw = |body: Vec<u8>, ct: &'static str| {
        let req = api.http.post(url.clone()).bearer_auth(&api.token).header("Content-Type", ct).body(body);
        async move {
            let r = req.send().await.unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap();
            (status, v["Error"].as_str().unwrap_or_default().to_string())
        }
    };
    let (s, e) = send_raw(b"{not json".to_vec(), "application/json").await;
    assert_eq!((s.as_u16(), e.contains("malformed")), (400, true), "{e}");
    let (s, e) = send_raw(b"".to_vec(), "application/json").await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = send_raw(b"[1,2]".to_vec(), "application/json").await;
    assert_eq!(s, 400, "{e}");
    let (s, e) = send_raw(
        serde_json::to_vec(&resident_body(&sim, "ct@example.com", ("Hudson", "3", "301"))).unwrap(),
        "text/plain",
    )
    .await;
    assert_eq!((s.as_u16(), e.contains("Content-Type")), (400, true), "{e}");
    let mut wrong_type = resident_body(&sim, "wt@example.com", ("Hudson", "3", "301"));
    wrong_type["FirstName"] = json!(5);
    let r = api.post(&format!("{site}/resident"), wrong_type).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("FirstName"), "{}", r.error());
    let mut unknown = resident_body(&sim, "uk@example.com", ("Hudson", "3", "301"));
    unknown["Nickname"] = json!("x");
    let r = api.post(&format!("{site}/resident"), unknown).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("Nickname"), "{}", r.error());
    let mut missing = resident_body(&sim, "ms@example.com", ("Hudson", "3", "301"));
    missing.as_object_mut().unwrap().remove("Unit");
    let r = api.post(&format!("{site}/resident"), missing).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("Unit"), "{}", r.error());
    let mut bad_date = resident_body(&sim, "bd@example.com", ("Hudson", "3", "301"));
    bad_date["ActivationDateUTC"] = json!("2026-11-05T10:00:00");
    let r = api.post(&format!("{site}/resident"), bad_date).await;
    assert_eq!(r.status, 400);
    assert!(r.error().contains("ActivationDateUTC"), "{}", r.error());
    // Oversized body.
    let big = vec![b' '; 11 * 1024 * 1024];
    let (s, e) = send_raw(big, "application/json").await;
    assert_eq!((s.as_u16(), e.contains("limit")), (400, true), "{e}");
    // Bad ids.
    assert_eq!(api.get(&format!("{site}/resident/not-a-resident")).await.status, 404);
    assert_eq!(api.get(&format!("{site}/resident/%FF%FE")).await.status, 404);
    assert_eq!(api.get(&format!("{site}/resident/import/nope")).await.status, 404);
    assert_eq!(api.get("/team/x/site/y/mappings").await.status, 404);
    assert_eq!(api.get("/no/such/route").await.status, 404);
    assert_eq!(api.send(Method::PATCH, &format!("{site}/resident"), None).await.status, 405);
    // Nothing above produced a 5xx.
    assert!(sim.stats().by_status.keys().all(|s| *s < 500), "{:?}", sim.stats().by_status);
}

#[tokio::test]
async fn another_accounts_edits_are_visible_through_the_v2_api() {
    let sim = start();
    let admin = login(&sim, ADMIN).await;
    let staff = login(&sim, STAFF).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&staff, &site, resident_body(&sim, "shared@example.com", ("Hudson", "3", "303"))).await;
    let got = admin.get(&format!("{site}/resident/{}", r["ResidentId"].as_str().unwrap())).await;
    assert_eq!(got.body["Residents"][0]["Email"], "shared@example.com");
}

#[tokio::test]
async fn scheduled_residents_become_current_when_the_clock_advances() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let mut body = resident_body(&sim, "future@example.com", ("Hudson", "3", "304"));
    body["ActivationDateUTC"] = json!(iso(sim.now() + Duration::days(3)));
    let r = create(&api, &site, body).await;
    assert_eq!(r["Status"], json!(["scheduled"]));
    let adv = api.post("/__sim/clock/advance", json!({"days": 4})).await;
    assert!(adv.body["now"].is_string());
    let api = login(&sim, ADMIN).await;
    let got = api.get(&format!("{site}/resident/{}", r["ResidentId"].as_str().unwrap())).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["current", "pending"]));
    let bad = api.post("/__sim/clock/advance", json!({"weeks": 1})).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn control_api_adds_accounts_and_dumps_state_and_counts_requests() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site_id = sim.data().sites[2].site_id.clone();
    let add = api
        .post(
            "/__sim/accounts",
            json!({"email": "new.staff@sim.test", "password": "pw", "level": "staff_user", "site_ids": [site_id]}),
        )
        .await;
    assert_eq!(add.status, 200);
    let bad = api.post("/__sim/accounts", json!({"email": "x@sim.test", "password": "pw", "level": "boss"})).await;
    assert_eq!(bad.status, 400);
    let accounts = api.get("/__sim/accounts").await;
    assert_eq!(accounts.body.as_array().unwrap().len(), 5);
    let staff = login(&sim, ("new.staff@sim.test", "pw")).await;
    assert_eq!(staff.get("/team").await.body["Teams"].as_array().unwrap().len(), 1);

    let state = api.get("/__sim/state").await;
    assert_eq!(state.body["data"]["sites"].as_array().unwrap().len(), 5);
    assert_eq!(state.body["wire_residents"].as_array().unwrap().len(), 40);
    let statuses: std::collections::BTreeSet<String> = state.body["wire_residents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["Status"].as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()))
        .collect();
    assert_eq!(statuses.len(), 5, "the demo has residents in every status: {statuses:?}");

    api.delete("/__sim/stats").await;
    let site = site_path(&sim, "Hudson Lofts");
    for _ in 0..3 {
        api.get(&format!("{site}/resident")).await;
    }
    let stats = api.get("/__sim/stats").await;
    assert_eq!(stats.body["total"], 3);
    assert_eq!(stats.body["by_route"]["GET /v2/team/{team_id}/site/{site_id}/resident"], 3);
}

#[tokio::test]
async fn state_file_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim.db");
    let sim = Sim::start(SimConfig::demo().state_file(&path)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let r = create(&api, &site, resident_body(&sim, "persist@example.com", ("Hudson", "3", "305"))).await;
    sim.advance(Duration::days(2));
    let now = sim.now();
    let old_token = login(&sim, ADMIN).await.token;
    sim.shutdown();
    let sim = Sim::start(SimConfig::default().state_file(&path)).unwrap();
    assert!((sim.now() - now).num_seconds().abs() < 10, "clock kept");
    let api = Api { http: client(), base: sim.base_url(), control: sim.control_url(), token: old_token };
    assert_eq!(api.get("/team").await.status, 200, "tokens survive a restart");
    let got = api.get(&format!("{site}/resident/{}", r["ResidentId"].as_str().unwrap())).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["Residents"][0]["Email"], "persist@example.com");
}

// ----- faults ---------------------------------------------------------------------------

async fn set_script(api: &Api, kinds: &[(FaultKind, Option<&str>)]) {
    let cfg = FaultConfig {
        script: kinds.iter().map(|(k, m)| ScriptedFault { kind: *k, matches: m.map(str::to_string) }).collect(),
        ..FaultConfig::default()
    };
    let r = api.put("/__sim/faults", serde_json::to_value(cfg).unwrap()).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn fault_500_and_503_do_not_apply_the_request() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    set_script(&api, &[(FaultKind::Fail500, Some("POST")), (FaultKind::Fail503, Some("POST"))]).await;
    let body = resident_body(&sim, "f@example.com", ("Hudson", "3", "301"));
    let r = api.post(&format!("{site}/resident"), body.clone()).await;
    assert_eq!(r.status, 500);
    assert!(r.error().contains("injected"));
    let r = api.post(&format!("{site}/resident"), body.clone()).await;
    assert_eq!(r.status, 503);
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
    assert!(!sim.data().residents.values().any(|r| r.email == "f@example.com"));
    create(&api, &site, body).await;
    assert_eq!(sim.stats().faults.get("fail_500"), Some(&1));
}

#[tokio::test]
async fn fault_429_carries_retry_after() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    set_script(&api, &[(FaultKind::Throttle, None)]).await;
    let r = api.get("/team").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers.get("retry-after").unwrap(), "1");
    assert_eq!(api.get("/team").await.status, 200);
}

#[tokio::test]
async fn rate_limit_answers_429_beyond_the_limit() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let cfg = FaultConfig { rate_limit_per_sec: Some(1.0), retry_after_secs: 2, ..FaultConfig::default() };
    api.put("/__sim/faults", serde_json::to_value(cfg).unwrap()).await;
    let mut throttled = 0;
    for _ in 0..20 {
        let r = api.get("/team").await;
        if r.status == 429 {
            assert_eq!(r.headers.get("retry-after").unwrap(), "2");
            throttled += 1;
        }
    }
    assert!(throttled >= 10, "{throttled}");
}

#[tokio::test]
async fn fault_drop_closes_the_connection_without_applying() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    set_script(&api, &[(FaultKind::Drop, Some("POST"))]).await;
    let body = resident_body(&sim, "drop@example.com", ("Hudson", "3", "301"));
    let err =
        api.http.post(format!("{}{site}/resident", sim.base_url())).bearer_auth(&api.token).json(&body).send().await;
    assert!(err.is_err(), "the connection must be dropped");
    assert!(!sim.data().residents.values().any(|r| r.email == "drop@example.com"));
}

#[tokio::test]
async fn fault_drop_after_applies_then_closes_the_connection() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    set_script(&api, &[(FaultKind::DropAfter, Some("POST"))]).await;
    let body = resident_body(&sim, "applied@example.com", ("Hudson", "3", "301"));
    let err =
        api.http.post(format!("{}{site}/resident", sim.base_url())).bearer_auth(&api.token).json(&body).send().await;
    assert!(err.is_err());
    assert!(sim.data().residents.values().any(|r| r.email == "applied@example.com"));
    // A blind retry now meets the email rule: the client must check by email.
    let again = api.post(&format!("{site}/resident"), body).await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn fault_truncate_cuts_the_body() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    set_script(&api, &[(FaultKind::Truncate, Some("GET"))]).await;
    let resp = api.http.get(format!("{}{site}/resident", sim.base_url())).bearer_auth(&api.token).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await;
    match body {
        Err(_) => {}
        Ok(b) => assert!(serde_json::from_slice::<Value>(&b).is_err(), "body must be cut"),
    }
    assert_eq!(api.get(&format!("{site}/resident")).await.status, 200);
}

#[tokio::test]
async fn fault_latency_delays_answers() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let cfg = FaultConfig { latency_ms: 400, ..FaultConfig::default() };
    api.put("/__sim/faults", serde_json::to_value(cfg).unwrap()).await;
    let t = std::time::Instant::now();
    assert_eq!(api.get("/team").await.status, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(400));
    // Control endpoints are never delayed or faulted.
    let t = std::time::Instant::now();
    api.get("/__sim/health").await;
    assert!(t.elapsed() < std::time::Duration::from_millis(400));
}

#[tokio::test]
async fn fault_stalled_jobs_make_no_progress_until_released() {
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let sim = Sim::start(SimConfig::demo().frozen_at(t0).job_duration_ms(1_000)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    api.put("/__sim/faults", json!({"stall_jobs": true})).await;
    let r = api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "terminate"})).await;
    let path = format!("{site}/resident/bulkaction/{}", r.body["job_id"].as_str().unwrap());
    sim.advance(Duration::minutes(10));
    let api = login(&sim, ADMIN).await;
    let s = poll_job(&api, &path).await;
    assert_eq!((s["status"].as_str(), s["progress"].as_f64()), (Some("started"), Some(0.0)));
    api.put("/__sim/faults", json!({})).await;
    assert_eq!(poll_job(&api, &path).await["status"], "finished");
}

#[tokio::test]
async fn random_faults_replay_with_the_same_seed() {
    async fn run() -> Vec<u16> {
        let sim = start();
        let api = login(&sim, ADMIN).await;
        api.put("/__sim/faults", json!({"fail_rate": 0.3, "throttle_rate": 0.2, "seed": 99})).await;
        let mut out = Vec::new();
        for _ in 0..40 {
            out.push(api.get("/team").await.status.as_u16());
        }
        out
    }
    let a = run().await;
    assert_eq!(a, run().await);
    assert!(a.contains(&200) && a.iter().any(|s| *s >= 500) && a.contains(&429), "{a:?}");
}

#[test]
fn starts_and_stops_from_sync_code() {
    let sim = Sim::start(SimConfig::demo()).unwrap();
    assert!(sim.base_url().ends_with("/v2"));
    assert!(sim.control_url().ends_with("/__sim"));
    let before = sim.now();
    let after = sim.advance(Duration::days(1));
    assert!(after - before >= Duration::days(1));
    drop(sim);
}

#[tokio::test]
async fn garbage_bodies_never_cause_a_5xx() {
    use rand::{Rng, SeedableRng};
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let id = sim.data().residents.values().find(|r| site.ends_with(&r.site_id)).unwrap().resident_id.clone();
    let targets = [
        (Method::POST, format!("{site}/resident")),
        (Method::PUT, format!("{site}/resident/{id}")),
        (Method::PATCH, format!("{site}/resident/{id}/status")),
        (Method::POST, format!("{site}/resident/import")),
        (Method::POST, format!("{site}/resident/bulkaction")),
    ];
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let samples: Vec<Value> = vec![
        json!(null),
        json!(1),
        json!("x"),
        json!([]),
        json!({}),
        json!({"FirstName": null}),
        json!({"Residents": [1, "x", null, {"Email": 3}]}),
        json!({"Residents": [{"FirstName": "A", "LastName": "B", "Email": "e@x.com", "Building": "Hudson", "Floor": "1", "Unit": "101", "ActivationDateUTC": "bad"}]}),
        json!({"Action": 5}),
        json!({"Action": "suspend", "ResidentIds": "all"}),
        json!({"Action": "suspend", "ResidentIds": [1, 2]}),
        json!({"Status": ["Active"]}),
        json!({"FirstName": "A", "LastName": "B", "Email": "e@x.com", "Building": "Hudson", "Floor": "1", "Unit": "101", "ActivationDateUTC": "2026-01-01T00:00:00+00:00", "DeactivationDateUTC": 12}),
        json!({"FirstName": "\u{0}", "LastName": "B".repeat(5000), "Email": "e@x.com", "Building": "Hudson", "Floor": "1", "Unit": "101", "ActivationDateUTC": "9999-12-31T23:59:59+14:00"}),
    ];
    for (method, path) in &targets {
        for body in &samples {
            let r = api.send(method.clone(), path, Some(body.clone())).await;
            assert!(r.status.as_u16() < 500, "{method} {path} {body}: {}", r.status);
            if !r.status.is_success() {
                assert!(r.body["Error"].is_string(), "{method} {path} {body}: {}", r.body);
            }
        }
        for _ in 0..30 {
            let len = rng.random_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.random()).collect();
            let resp = api
                .http
                .request(method.clone(), format!("{}{path}", sim.base_url()))
                .bearer_auth(&api.token)
                .header("Content-Type", "application/json")
                .body(bytes)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{method} {path}");
            let v: Value = resp.json().await.unwrap();
            assert!(v["Error"].is_string());
        }
    }
    // Let an import with bad rows finish: rows fail one by one, never the job.
    sim.advance(Duration::minutes(1));
    assert!(sim.stats().by_status.keys().all(|s| *s < 500));
}

#[tokio::test]
async fn list_reflects_a_changed_site_time_zone() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let before = api.get(&format!("{site}/resident")).await.body["Residents"][0]["ActivationDate"].clone();
    let site_id = site.rsplit('/').next().unwrap().to_string();
    sim.world(|w| {
        for s in w.data.sites.iter_mut().filter(|s| s.site_id == site_id) {
            s.time_zone = "Asia/Tokyo".into();
        }
    });
    let after = api.get(&format!("{site}/resident")).await.body["Residents"][0]["ActivationDate"].clone();
    assert_ne!(before, after);
}

#[tokio::test]
async fn fault_fail_after_applies_then_answers_500() {
    let sim = start();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    set_script(&api, &[(FaultKind::FailAfter, Some("POST"))]).await;
    let body = resident_body(&sim, "after500@example.com", ("Hudson", "3", "302"));
    let r = api.post(&format!("{site}/resident"), body.clone()).await;
    assert_eq!(r.status, 500);
    assert!(r.error().contains("after applying"));
    assert!(sim.data().residents.values().any(|r| r.email == "after500@example.com"));
    assert_eq!(api.post(&format!("{site}/resident"), body).await.status, 409);
}

#[tokio::test]
async fn onboard_now_refuses_to_overlap_the_previous_tenant() {
    let t0 = Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap();
    let sim = Sim::start(SimConfig::demo().frozen_at(t0).job_duration_ms(0)).unwrap();
    let api = login(&sim, ADMIN).await;
    let site = site_path(&sim, "Hudson Lofts");
    let unit = ("Hudson", "3", "301");
    let mut leaving = resident_body(&sim, "leaving@example.com", unit);
    leaving["DeactivationDateUTC"] = json!(iso(t0 + Duration::days(10)));
    create(&api, &site, leaving).await;
    let mut moving_in = resident_body(&sim, "moving.in@example.com", unit);
    moving_in["ActivationDateUTC"] = json!(iso(t0 + Duration::days(10)));
    let r = create(&api, &site, moving_in).await;
    assert_eq!(r["Status"], json!(["scheduled"]));
    let id = r["ResidentId"].as_str().unwrap();
    let job =
        api.post(&format!("{site}/resident/bulkaction"), json!({"Action": "onboard-now", "ResidentIds": [id]})).await;
    let s = poll_job(&api, &format!("{site}/resident/bulkaction/{}", job.body["job_id"].as_str().unwrap())).await;
    assert_eq!(s["status"], "finished");
    assert_eq!(s["failed"], 1);
    assert_eq!(s["result"]["failed"][0]["field"], "Unit");
    let got = api.get(&format!("{site}/resident/{id}")).await;
    assert_eq!(got.body["Residents"][0]["Status"], json!(["scheduled"]));
}
