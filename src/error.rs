//! The one error type that crosses the app layer's edge: a stable code, a message a person
//! understands, and optional details (the field, the rule, the reason). The CLI maps the code
//! to its exit status and prints the details with `--json`; the desktop shell sends
//! `{code, message, details}` over IPC, and the UI reads the details through the TypeScript
//! types ts-rs generates from [`ErrorDetails`], so no edge guesses at JSON.

use crate::access::Denial;
use residentdesk_domain::vocab::ResidentField;
use residentdesk_domain::RuleError;
use serde::{Deserialize, Serialize};

/// Stable, machine-readable error classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Usage error (bad flags).
    Usage,
    /// The actor could not be signed in (bad credentials, locked, no actor).
    Unauthenticated,
    /// Authorisation said no.
    PermissionDenied,
    /// A rule or validation said no.
    InvalidInput,
    NotFound,
    /// Needs a person (sync conflict).
    Conflict,
    /// Anything else (I/O, database).
    Internal,
}

impl ErrorCode {
    /// The CLI's exit code for this class (CLI.md).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorCode::Usage => 2,
            ErrorCode::PermissionDenied | ErrorCode::Unauthenticated => 3,
            ErrorCode::InvalidInput => 4,
            ErrorCode::NotFound => 5,
            ErrorCode::Conflict => 6,
            ErrorCode::Internal => 1,
        }
    }
}

/// Why an error happened, when the code alone does not say it and an edge acts on it
/// (`details.reason`). The texts are stable: scripts and the UI compare them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorReason {
    /// A backup was refused before anything was written (destination, space, same file).
    BackupRefused,
    /// Writing or checking a backup copy failed.
    BackupNotWritten,
    /// Another sync pass holds the database (`holder`, `since`); try again later.
    SyncBusy,
    /// The actor lacks a permission (`use_case`, `permission`).
    PermissionMissing,
    /// A name matched several things (`candidates`).
    Ambiguous,
    /// The remote contradicts assumptions of the contract (`contradicted`, `push_held_by`).
    AssumptionsContradicted,
    /// Another process holds the database file (the desktop app while `db encrypt` runs).
    DbBusy,
    /// The database is encrypted and no key was given, or no key can be had for a new one.
    KeyMissing,
    /// The key given does not open the database (or its file is damaged).
    KeyWrong,
    /// The OS keyring failed to store or give a key.
    KeyringFailed,
    /// The password signed in is a temporary one: a new password must be chosen with it.
    PasswordChangeRequired,
    /// The temporary password from a reset has expired: someone who manages the account
    /// can give a new one.
    PasswordExpired,
    /// The database file is damaged (a page fails its integrity check): restore a backup.
    DbDamaged,
    /// The session was idle for longer than its team allows: the person's password again
    /// opens it (`unauthenticated`; the screen beneath stays as it was).
    SessionLocked,
    /// Too many wrong passwords for the email typed: signing in with it is blocked `until`
    /// (a Team administrator can reset the password).
    SignInLocked,
    /// The email already has a pending invitation (`email`): resend it instead.
    InvitationPending,
    /// The invitation is no longer pending (`state`).
    InvitationNotPending,
    /// The invitation may be resent only from `until`.
    InvitationTooSoon,
    /// No invitation has this code.
    InvitationUnknown,
    /// The invitation was already accepted, declined or withdrawn (`state`).
    InvitationUsed,
    /// The invitation expired (`until`).
    InvitationExpired,
    /// The inviter no longer holds what the invitation gives.
    InvitationInviterLacks,
}

/// The input an error is about: a resident field by its API name, or another input (a CLI
/// flag such as `keep`, a form field such as `email` of a staff account).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum ErrorField {
    Resident(ResidentField),
    Input(String),
}

impl ErrorField {
    /// The field's name as the wire and the CLI spell it.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorField::Resident(f) => f.as_str(),
            ErrorField::Input(s) => s,
        }
    }

    /// The resident field, when it is one.
    pub fn resident(&self) -> Option<ResidentField> {
        match self {
            ErrorField::Resident(f) => Some(*f),
            ErrorField::Input(_) => None,
        }
    }
}

impl From<&str> for ErrorField {
    fn from(name: &str) -> Self {
        ResidentField::parse(name).map(ErrorField::Resident).unwrap_or_else(|| ErrorField::Input(name.to_string()))
    }
}

impl From<&String> for ErrorField {
    fn from(name: &String) -> Self {
        ErrorField::from(name.as_str())
    }
}

impl From<ResidentField> for ErrorField {
    fn from(f: ResidentField) -> Self {
        ErrorField::Resident(f)
    }
}

impl PartialEq<&str> for ErrorField {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// One problem with one field, for forms and import reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FieldProblem {
    /// The API field name (FirstName, Email, Unit, ActivationDateUTC...).
    pub field: ErrorField,
    pub message: String,
    /// The rule broken, with its parameters, when a rule said no.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub rule: Option<RuleError>,
}

impl FieldProblem {
    /// A problem no rule raised (a check that could not run).
    pub fn new(field: impl Into<ErrorField>, message: impl Into<String>) -> Self {
        FieldProblem { field: field.into(), message: message.into(), rule: None }
    }
}

impl From<RuleError> for FieldProblem {
    fn from(e: RuleError) -> Self {
        FieldProblem { field: e.field().unwrap_or("resident").into(), message: e.to_string(), rule: Some(e) }
    }
}

/// The rule an error breaks, flattened into the details (`details.rule` is its kind, its
/// parameters stand beside it), or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(untagged)]
pub enum BrokenRule {
    Rule(RuleError),
    /// No rule: nothing on the wire. `rule` is always `None`; it is there so the TypeScript
    /// side reads `details.rule` (as `undefined`) whichever the case.
    NoRule {
        #[serde(skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional, type = "never"))]
        rule: Option<()>,
    },
}

/// What an error says beyond its code and message (`details`), every member optional. The
/// vocabulary of error details lives here and only here; an edge that needs a new one adds
/// it here, so the CLI's `--json` and the UI's types follow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorDetails {
    /// Why, when an edge acts on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub reason: Option<ErrorReason>,
    /// The input the error is about. With a rule that names its field itself (`required`,
    /// `invalid`), the rule's `field` is this member on the wire (one key, not two).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub field: Option<ErrorField>,
    /// Every problem, when several fields are wrong at once (the first is `field`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<FieldProblem>>"))]
    pub problems: Vec<FieldProblem>,
    /// The use case refused and the permission it needs (`owner` for the owner's acts).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub use_case: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub permission: Option<String>,
    /// Who holds the sync lease, and since when.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub holder: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Until when something lasts (a sign-in lock).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The email an error is about (an invitation's).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub email: Option<String>,
    /// The state something is in (an invitation's: `accepted`, `rejected`, `expired`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub state: Option<String>,
    /// The names an ambiguous reference matched.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub candidates: Vec<String>,
    /// The assumptions the remote contradicts, and those holding the push back.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub contradicted: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<Vec<String>>"))]
    pub push_held_by: Vec<String>,
    /// A command line the CLI could not read: clap's error kind (`unknown_argument`, …) and
    /// its full text with the usage line.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub help: Option<String>,
    /// Why access was refused, as a code with its parameters (`denial.denial` is its kind).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub denial: Option<Denial>,
    /// The rule broken: `rule` (its kind, e.g. `unit_occupied`) and its parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "ts", ts(flatten))]
    pub rule: BrokenRule,
}

impl Default for ErrorDetails {
    fn default() -> Self {
        ErrorDetails {
            reason: None,
            field: None,
            problems: Vec::new(),
            use_case: None,
            permission: None,
            holder: None,
            since: None,
            until: None,
            email: None,
            state: None,
            candidates: Vec::new(),
            contradicted: Vec::new(),
            push_held_by: Vec::new(),
            kind: None,
            help: None,
            denial: None,
            rule: BrokenRule::NoRule { rule: None },
        }
    }
}

impl ErrorDetails {
    /// Details with only a reason.
    pub fn reason(reason: ErrorReason) -> Self {
        ErrorDetails { reason: Some(reason), ..Default::default() }
    }

    /// Details about one input.
    pub fn field(field: impl Into<ErrorField>) -> Self {
        ErrorDetails { field: Some(field.into()), ..Default::default() }
    }

    /// The details of a broken rule: its kind and parameters, and the field it concerns.
    pub fn rule(e: RuleError) -> Self {
        let field = e.field().map(ErrorField::from);
        ErrorDetails { rule: BrokenRule::Rule(e), ..Default::default() }.with_field(field)
    }

    /// Sets the field, unless the rule already carries it on the wire (a JSON object with
    /// the key twice would be read differently by different parsers).
    fn with_field(mut self, field: Option<ErrorField>) -> Self {
        let carried = matches!(&self.rule, BrokenRule::Rule(RuleError::Required { .. } | RuleError::Invalid { .. }));
        self.field = if carried { None } else { field };
        self
    }

    /// Several field problems: the first names `field` (and its rule, if any).
    pub fn problems(problems: Vec<FieldProblem>) -> Self {
        let first = problems.first().cloned();
        let mut d = match first.as_ref().and_then(|p| p.rule.clone()) {
            Some(rule) => ErrorDetails { rule: BrokenRule::Rule(rule), ..Default::default() },
            None => ErrorDetails::default(),
        };
        d = d.with_field(first.map(|p| p.field));
        d.problems = problems;
        d
    }

    /// A refusal of access, by its code.
    pub fn denial(denial: Denial) -> Self {
        ErrorDetails { denial: Some(denial), ..Default::default() }
    }

    /// A refusal for lack of a permission.
    pub fn permission(use_case: &str, permission: &str) -> Self {
        ErrorDetails {
            reason: Some(ErrorReason::PermissionMissing),
            use_case: Some(use_case.to_string()),
            permission: Some(permission.to_string()),
            ..Default::default()
        }
    }

    /// The field the error is about: the member, or the one the rule names.
    pub fn field_name(&self) -> Option<&str> {
        match (&self.field, &self.rule) {
            (Some(f), _) => Some(f.as_str()),
            (None, BrokenRule::Rule(r)) => r.field(),
            (None, BrokenRule::NoRule { .. }) => None,
        }
    }

    /// The rule broken, if any.
    pub fn broken_rule(&self) -> Option<&RuleError> {
        match &self.rule {
            BrokenRule::Rule(r) => Some(r),
            BrokenRule::NoRule { .. } => None,
        }
    }
}

/// An error of a use case.
#[derive(Debug, Clone, Serialize, thiserror::Error)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[error("{message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    // Boxed: most errors have none, and a `Result` stays small.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<ErrorDetails>"))]
    pub details: Option<Box<ErrorDetails>>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        AppError { code, message: message.into(), details: None }
    }
    pub fn with_details(mut self, details: ErrorDetails) -> Self {
        self.details = Some(Box::new(details));
        self
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidInput, message)
    }
    pub fn invalid_field(field: impl Into<ErrorField>, message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::InvalidInput, message).with_details(ErrorDetails::field(field))
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        AppError::new(ErrorCode::NotFound, what)
    }
    pub fn denied(reason: impl Into<String>) -> Self {
        AppError::new(ErrorCode::PermissionDenied, reason)
    }
    /// A refusal of access: "denied: …" in English, the code and parameters in the details.
    pub fn refused(denial: Denial) -> Self {
        AppError::denied(format!("denied: {denial}")).with_details(ErrorDetails::denial(denial))
    }
    /// A refusal for lack of a permission (`use_case`, `permission`), with its code.
    pub fn refused_permission(denial: Denial, use_case: &str, permission: &str) -> Self {
        let details = ErrorDetails { denial: Some(denial.clone()), ..ErrorDetails::permission(use_case, permission) };
        AppError::denied(format!("denied: {denial}")).with_details(details)
    }
    /// The refusal's code, when access was refused.
    pub fn denial(&self) -> Option<&Denial> {
        self.details.as_deref().and_then(|d| d.denial.as_ref())
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::new(ErrorCode::Internal, message)
    }
    /// The field the error is about, if any.
    pub fn field(&self) -> Option<&str> {
        self.details.as_deref().and_then(ErrorDetails::field_name)
    }
    /// `details.reason`, if any.
    pub fn reason(&self) -> Option<ErrorReason> {
        self.details.as_deref().and_then(|d| d.reason)
    }
}

impl From<RuleError> for AppError {
    fn from(e: RuleError) -> Self {
        AppError::new(ErrorCode::InvalidInput, e.to_string()).with_details(ErrorDetails::rule(e))
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        if crate::store::key::is_damage(&e) {
            // Which file: the one database the app has open; the words name the problem.
            return AppError::internal(crate::store::key::damaged_message("file"))
                .with_details(ErrorDetails::reason(ErrorReason::DbDamaged));
        }
        AppError::internal(format!("database error: {e}"))
    }
}

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Key(k) => AppError::from(k),
            crate::store::StoreError::Sql(e) => AppError::from(e),
            e => AppError::internal(e.to_string()),
        }
    }
}

/// A key problem names the key as the problem (`reason`), with the code of a refused
/// sign-in for a missing or wrong key (the person must give another) and `internal` for
/// what they cannot fix by typing (an unreadable file, a failing keyring).
impl From<crate::store::key::KeyError> for AppError {
    fn from(e: crate::store::key::KeyError) -> Self {
        use crate::store::key::KeyError as K;
        let (code, reason) = match &e {
            K::Missing { .. } | K::NoKeyForNew { .. } | K::EmptyPassphrase { .. } => {
                (ErrorCode::Unauthenticated, ErrorReason::KeyMissing)
            }
            K::Wrong { .. } | K::NotPlain { .. } => (ErrorCode::Unauthenticated, ErrorReason::KeyWrong),
            K::Read { .. } => return AppError::internal(e.to_string()),
            K::NotADatabase { .. } => return AppError::new(ErrorCode::InvalidInput, e.to_string()),
            K::Keyring { .. } => (ErrorCode::Internal, ErrorReason::KeyringFailed),
            K::Damaged { .. } => (ErrorCode::Internal, ErrorReason::DbDamaged),
        };
        AppError::new(code, e.to_string()).with_details(ErrorDetails::reason(reason))
    }
}

pub type AppResult<T> = Result<T, AppError>;

#[cfg(test)]
mod tests {
    //! One test per shape of `details`: the JSON the CLI prints and the UI reads.

    use super::*;
    use chrono::{TimeZone, Utc};
    use serde_json::{json, Value};

    fn wire(e: &AppError) -> Value {
        serde_json::to_value(e).unwrap()
    }

    /// Every key of `details` once: serde_json's `Value` would hide a duplicate, the text does
    /// not (the nested problems, which have keys of their own, set aside).
    fn keys_once(e: &AppError) {
        let mut top = e.clone();
        if let Some(d) = top.details.as_deref_mut() {
            d.problems.clear();
        }
        let text = serde_json::to_string(&top).unwrap();
        for key in ["\"field\"", "\"rule\"", "\"reason\""] {
            assert!(text.matches(key).count() <= 1, "{key} twice in {text}");
        }
    }

    #[test]
    fn no_details_no_key() {
        let e = AppError::not_found("no resident 7");
        assert_eq!(wire(&e), json!({"code": "not_found", "message": "no resident 7"}));
        assert_eq!(e.field(), None);
    }

    #[test]
    fn a_field_is_a_resident_field_or_another_input() {
        let e = AppError::invalid_field("keep", "expected local or remote");
        assert_eq!(wire(&e)["details"], json!({"field": "keep"}));
        assert_eq!(e.details.as_ref().unwrap().field, Some(ErrorField::Input("keep".into())));
        let e = AppError::invalid_field(ResidentField::Unit, "no such unit");
        assert_eq!(wire(&e)["details"], json!({"field": "Unit"}));
        assert_eq!(
            e.details.as_ref().unwrap().field.as_ref().and_then(ErrorField::resident),
            Some(ResidentField::Unit)
        );
        assert_eq!(ErrorField::from("ActivationDateUTC"), ErrorField::Resident(ResidentField::ActivationDateUTC));
        assert_eq!(e.field(), Some("Unit"));
    }

    #[test]
    fn a_rule_carries_its_kind_parameters_and_field() {
        let e = AppError::from(RuleError::UnitOccupied { unit: "101".into(), occupant: "Ava Reed".into() });
        assert_eq!(
            wire(&e)["details"],
            json!({"rule": "unit_occupied", "unit": "101", "occupant": "Ava Reed", "field": "Unit"})
        );
        keys_once(&e);
        let e = AppError::from(RuleError::Required { field: "FirstName".into() });
        assert_eq!(wire(&e)["details"], json!({"rule": "required", "field": "FirstName"}));
        assert_eq!(e.field(), Some("FirstName"));
        keys_once(&e);
        let e = AppError::from(RuleError::PurgeExpired);
        assert_eq!(wire(&e)["details"], json!({"rule": "purge_expired"}));
        assert_eq!(e.field(), None);
        let e = AppError::from(RuleError::Expired { action: "suspend".into() });
        assert_eq!(wire(&e)["details"], json!({"rule": "expired", "action": "suspend"}));
    }

    #[test]
    fn problems_list_every_field_and_the_first_rule() {
        let problems = vec![
            FieldProblem::from(RuleError::Required { field: "LastName".into() }),
            FieldProblem::from(RuleError::EndBeforeStart),
            FieldProblem::new(ResidentField::Unit, "cannot check mappings: disk I/O error"),
        ];
        let e = AppError::invalid("LastName is required (and 2 more problems)")
            .with_details(ErrorDetails::problems(problems));
        assert_eq!(
            wire(&e)["details"],
            json!({
                "rule": "required",
                "field": "LastName",
                "problems": [
                    {"field": "LastName", "message": "Last name is required", "rule": {"rule": "required", "field": "LastName"}},
                    {"field": "DeactivationDateUTC", "message": RuleError::EndBeforeStart.to_string(), "rule": {"rule": "end_before_start"}},
                    {"field": "Unit", "message": "cannot check mappings: disk I/O error"},
                ],
            })
        );
        keys_once(&e);
        assert_eq!(e.field(), Some("LastName"));
        let one = ErrorDetails::problems(vec![FieldProblem::new("Email", "cannot check email")]);
        assert_eq!(serde_json::to_value(&one).unwrap()["field"], "Email");
    }

    #[test]
    fn a_permission_refusal_names_the_use_case_and_the_permission() {
        let e = AppError::denied("denied: no").with_details(ErrorDetails::permission("resident.add", "residents.add"));
        assert_eq!(
            wire(&e)["details"],
            json!({"reason": "permission_missing", "use_case": "resident.add", "permission": "residents.add"})
        );
        assert_eq!(e.reason(), Some(ErrorReason::PermissionMissing));
    }

    #[test]
    fn reasons_have_stable_texts() {
        for (reason, text) in [
            (ErrorReason::BackupRefused, "backup_refused"),
            (ErrorReason::BackupNotWritten, "backup_not_written"),
            (ErrorReason::SyncBusy, "sync_busy"),
            (ErrorReason::PermissionMissing, "permission_missing"),
            (ErrorReason::Ambiguous, "ambiguous"),
            (ErrorReason::AssumptionsContradicted, "assumptions_contradicted"),
        ] {
            let e = AppError::internal("x").with_details(ErrorDetails::reason(reason));
            assert_eq!(wire(&e)["details"], json!({ "reason": text }));
            assert_eq!(serde_json::from_value::<ErrorReason>(json!(text)).unwrap(), reason);
        }
    }

    #[test]
    fn a_busy_sync_names_its_holder_and_since_when() {
        let since = Utc.with_ymd_and_hms(2026, 11, 30, 6, 0, 0).unwrap();
        let d = ErrorDetails {
            holder: Some("residentdesk sync, pid 1 on elsewhere".into()),
            since: Some(since),
            ..ErrorDetails::reason(ErrorReason::SyncBusy)
        };
        let e = AppError::internal("busy").with_details(d);
        assert_eq!(
            wire(&e)["details"],
            json!({"reason": "sync_busy", "holder": "residentdesk sync, pid 1 on elsewhere", "since": "2026-11-30T06:00:00Z"})
        );
    }

    #[test]
    fn lists_name_candidates_and_assumptions() {
        let d = ErrorDetails {
            candidates: vec!["Riverside".into(), "River Oaks".into()],
            ..ErrorDetails::reason(ErrorReason::Ambiguous)
        };
        let e = AppError::invalid("several").with_details(d);
        assert_eq!(wire(&e)["details"], json!({"reason": "ambiguous", "candidates": ["Riverside", "River Oaks"]}));
        let d = ErrorDetails {
            contradicted: vec!["residents.status".into()],
            push_held_by: vec!["residents.status".into()],
            ..ErrorDetails::reason(ErrorReason::AssumptionsContradicted)
        };
        let e = AppError::new(ErrorCode::Conflict, "contradicted").with_details(d);
        assert_eq!(
            wire(&e)["details"],
            json!({"reason": "assumptions_contradicted", "contradicted": ["residents.status"], "push_held_by": ["residents.status"]})
        );
    }
}
