//! The Site Manager Resident Management API v2 wire types (JSON field names exactly as the
//! contract spells them).
//!
//! Reading is tolerant: every response field is optional and unknown fields are ignored, so
//! the sync client survives a remote that adds or drops fields. Request bodies are strict
//! (`deny_unknown_fields`), so the simulator rejects what the real API would not expect.
//! Dates stay strings here; [`crate::dates`] parses and formats them.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// `POST /oauth/token` response (contract §A).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// `GET /team` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TeamsResponse {
    #[serde(rename = "Teams", default)]
    pub teams: Vec<TeamObject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamObject {
    #[serde(rename = "TeamId", deserialize_with = "string_or_number")]
    pub team_id: String,
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
}

/// `GET /team/{TeamId}/site` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SitesResponse {
    #[serde(rename = "Sites", default)]
    pub sites: Vec<SiteObject>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteObject {
    #[serde(rename = "SiteId", deserialize_with = "string_or_number")]
    pub site_id: String,
    #[serde(rename = "Name", default)]
    pub name: Option<String>,
    #[serde(rename = "SiteType", default)]
    pub site_type: Option<String>,
    #[serde(rename = "TimeZone", default)]
    pub time_zone: Option<String>,
}

/// `GET .../mappings` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MappingsResponse {
    #[serde(rename = "Mappings", default)]
    pub mappings: Vec<MappingObject>,
}

// Hash: a pull compares a site's answer with the last one by a digest (sync::pull).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MappingObject {
    #[serde(rename = "Building", deserialize_with = "string_or_number")]
    pub building: String,
    #[serde(rename = "Floor", deserialize_with = "string_or_number")]
    pub floor: String,
    #[serde(rename = "Unit", deserialize_with = "string_or_number")]
    pub unit: String,
    #[serde(rename = "Passphrase", default, deserialize_with = "opt_string_or_number")]
    pub passphrase: Option<String>,
    #[serde(rename = "SSID", default, deserialize_with = "opt_string_or_number")]
    pub ssid: Option<String>,
    #[serde(rename = "Vlan", default, deserialize_with = "opt_string_or_number")]
    pub vlan: Option<String>,
}

/// The resident envelope `{"Error": null, "Residents": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ResidentsEnvelope {
    #[serde(rename = "Error", default)]
    pub error: Option<Value>,
    #[serde(rename = "Residents", default)]
    pub residents: Vec<ResidentObject>,
}

/// A resident as the API returns it (contract §1.7, field for field).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct ResidentObject {
    #[serde(rename = "ActivationDate", default)]
    pub activation_date: Option<String>,
    #[serde(rename = "ActivationDateUTC", default)]
    pub activation_date_utc: Option<String>,
    #[serde(rename = "Building", default, deserialize_with = "opt_string_or_number")]
    pub building: Option<String>,
    #[serde(rename = "DeactivationDate", default)]
    pub deactivation_date: Option<String>,
    #[serde(rename = "DeactivationDateUTC", default)]
    pub deactivation_date_utc: Option<String>,
    #[serde(rename = "Email", default)]
    pub email: Option<String>,
    #[serde(rename = "FirstName", default)]
    pub first_name: Option<String>,
    #[serde(rename = "Floor", default, deserialize_with = "opt_string_or_number")]
    pub floor: Option<String>,
    #[serde(rename = "LastName", default)]
    pub last_name: Option<String>,
    #[serde(rename = "Mobile", default)]
    pub mobile: Option<String>,
    #[serde(rename = "OnboardedAt", default)]
    pub onboarded_at: Option<String>,
    #[serde(rename = "Phone", default)]
    pub phone: Option<String>,
    /// Not in the vendor's example; accepted on read because the import table names it.
    #[serde(rename = "PhoneNumber", default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(rename = "ResidentId", default, deserialize_with = "opt_string_or_number")]
    pub resident_id: Option<String>,
    #[serde(rename = "SSID", default)]
    pub ssid: Option<String>,
    #[serde(rename = "ServiceAreaNumber", default)]
    pub service_area_number: Option<String>,
    /// Kept exactly as given (unknown labels included).
    #[serde(rename = "Status", default)]
    pub status: Vec<String>,
    #[serde(rename = "UUID", default)]
    pub uuid: Option<String>,
    #[serde(rename = "Unit", default, deserialize_with = "opt_string_or_number")]
    pub unit: Option<String>,
}

impl ResidentObject {
    /// The phone, read from `PhoneNumber`, `Phone` or `Mobile`, in that order.
    pub fn any_phone(&self) -> Option<&str> {
        [&self.phone_number, &self.phone, &self.mobile]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .find(|p| !p.trim().is_empty())
    }
}

/// The body of `POST .../resident` and `PUT .../resident/{id}`, and one import item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ResidentInput {
    #[serde(rename = "FirstName")]
    pub first_name: String,
    #[serde(rename = "LastName")]
    pub last_name: String,
    /// Required on create; on PUT the stored email is sent unchanged (the remote ignores a change).
    #[serde(rename = "Email", default)]
    pub email: Option<String>,
    #[serde(rename = "PhoneNumber", default)]
    pub phone_number: Option<String>,
    #[serde(rename = "Building")]
    pub building: String,
    #[serde(rename = "Floor")]
    pub floor: String,
    #[serde(rename = "Unit")]
    pub unit: String,
    #[serde(rename = "ActivationDateUTC")]
    pub activation_date_utc: String,
    #[serde(rename = "DeactivationDateUTC", default)]
    pub deactivation_date_utc: Option<String>,
}

/// `POST .../resident/import` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImportBody {
    #[serde(rename = "Residents")]
    pub residents: Vec<ResidentInput>,
}

/// `POST .../resident/bulkaction` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkActionBody {
    #[serde(rename = "Action")]
    pub action: String,
    /// Without it the action covers every eligible resident of the site.
    #[serde(rename = "ResidentIds", default, skip_serializing_if = "Option::is_none")]
    pub resident_ids: Option<Vec<String>>,
}

/// `PATCH .../status` body: `{"Status": "Active" | "Disabled"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    #[serde(rename = "Status")]
    pub status: String,
}

/// `{"job_id": "..."}`, the answer to starting an import or bulk job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobCreated {
    #[serde(deserialize_with = "string_or_number")]
    pub job_id: String,
}

/// Import / bulk job status (contract §1.10, §1.20 and §A).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobStatus {
    #[serde(default, deserialize_with = "opt_string_or_number", skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// `started` or `finished`.
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub progress: f64,
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub success: u64,
    #[serde(default)]
    pub failed: u64,
    /// Bulk jobs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Present only once the job has finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<JobResult>,
}

impl JobStatus {
    pub fn is_finished(&self) -> bool {
        self.status.eq_ignore_ascii_case("finished")
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobResult {
    #[serde(default)]
    pub success: Vec<JobItem>,
    #[serde(default)]
    pub failed: Vec<JobItem>,
}

/// One resident in a job result: its details, plus what happened to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct JobItem {
    /// The outcome ("Imported", "Suspended", or the error text on failures).
    #[serde(default)]
    pub result: String,
    /// The offending field, on failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The resident's fields (`ResidentId`, `Email`, names, unit...), as the remote sent them.
    #[serde(flatten)]
    pub resident: Map<String, Value>,
}

impl JobItem {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.resident.get(key).and_then(Value::as_str)
    }
    pub fn email(&self) -> Option<&str> {
        self.text("Email")
    }
    pub fn resident_id(&self) -> Option<&str> {
        self.text("ResidentId")
    }
}

/// `{"Error": null, "Result": "Terminated"}` and the other action answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ResultResponse {
    #[serde(rename = "Error", default)]
    pub error: Option<Value>,
    #[serde(rename = "Result", default)]
    pub result: Option<String>,
}

/// Every error body: `{"Error": "human readable message"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(rename = "Error")]
    pub error: Value,
}

impl ErrorBody {
    pub fn new(message: impl Into<String>) -> Self {
        ErrorBody { error: Value::String(message.into()) }
    }
    /// The message, whatever shape the remote used for it.
    pub fn message(&self) -> String {
        match &self.error {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }
}

fn value_to_string(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

/// Accepts `"105"` or `105` (ids and units may come back as numbers).
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    value_to_string(Value::deserialize(d)?)
        .ok_or_else(|| serde::de::Error::custom("expected a string or number, got null"))
}

fn opt_string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(value_to_string(Value::deserialize(d)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VENDOR_EXAMPLE: &str = r#"{
      "Error": null,
      "Residents": [{
        "ActivationDate": "2021-11-05T14:10:22",
        "ActivationDateUTC": "2021-11-05T21:10:22.844348+00:00",
        "Building": "Hudson",
        "DeactivationDate": "2022-11-06T11:00:00",
        "DeactivationDateUTC": "2022-11-06T19:00:00+00:00",
        "Email": "cwilson@email.com",
        "FirstName": "Chris",
        "Floor": "1",
        "LastName": "Wilson",
        "Mobile": null,
        "OnboardedAt": "2021-11-05T21:10:28",
        "Phone": "543-678-9012",
        "ResidentId": "94adae3b-9eb8-4f1a-a64c-9065caba22c8",
        "SSID": "Wraeclast Heights",
        "ServiceAreaNumber": "OD-808-78",
        "Status": ["current", "pending"],
        "UUID": "94adae3b-9eb8-4f1a-a64c-9065caba22c8",
        "Unit": "105"
      }]
    }"#;

    #[test]
    fn vendor_example_round_trips_field_for_field() {
        let env: ResidentsEnvelope = serde_json::from_str(VENDOR_EXAMPLE).unwrap();
        let r = &env.residents[0];
        assert_eq!(r.email.as_deref(), Some("cwilson@email.com"));
        assert_eq!(r.any_phone(), Some("543-678-9012"));
        assert_eq!(r.status, vec!["current", "pending"]);
        let back = serde_json::to_value(&env).unwrap();
        let original: Value = serde_json::from_str(VENDOR_EXAMPLE).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn tolerant_reads() {
        let r: ResidentObject = serde_json::from_str(
            r#"{"ResidentId": 7, "Unit": 105, "Mobile": "555", "Extra": {"x": 1}, "Status": ["current","vip"]}"#,
        )
        .unwrap();
        assert_eq!(r.resident_id.as_deref(), Some("7"));
        assert_eq!(r.unit.as_deref(), Some("105"));
        assert_eq!(r.any_phone(), Some("555"));
        assert_eq!(r.status, vec!["current", "vip"]);
        let m: MappingObject = serde_json::from_str(r#"{"Building":"A","Floor":1,"Unit":"101","Vlan":42}"#).unwrap();
        assert_eq!(m.vlan.as_deref(), Some("42"));
    }

    #[test]
    fn strict_request_bodies() {
        assert!(serde_json::from_str::<BulkActionBody>(r#"{"Action":"suspend","Bogus":1}"#).is_err());
        assert!(serde_json::from_str::<StatusBody>(r#"{}"#).is_err());
        let input: ResidentInput = serde_json::from_str(
            r#"{"FirstName":"A","LastName":"B","Email":"a@b.co","Building":"H","Floor":"1","Unit":"1","ActivationDateUTC":"2021-11-05T21:10:22+00:00"}"#,
        )
        .unwrap();
        assert_eq!(input.deactivation_date_utc, None);
    }

    #[test]
    fn job_status_shapes() {
        let j: JobStatus = serde_json::from_str(
            r#"{"job_id":"j1","status":"finished","progress":100,"total":2,"success":1,"failed":1,"action":"suspend",
                "result":{"success":[{"ResidentId":"r1","Email":"a@b.co","result":"Suspended"}],
                          "failed":[{"Email":"c@d.co","result":"Unit is occupied","field":"Unit"}]}}"#,
        )
        .unwrap();
        assert!(j.is_finished());
        let res = j.result.unwrap();
        assert_eq!(res.success[0].resident_id(), Some("r1"));
        assert_eq!(res.failed[0].field.as_deref(), Some("Unit"));
        assert_eq!(res.failed[0].email(), Some("c@d.co"));
        let started: JobStatus =
            serde_json::from_str(r#"{"status":"started","progress":40,"success":2,"failed":0,"total":2}"#).unwrap();
        assert!(!started.is_finished());
        assert!(started.result.is_none());
    }
}
