//! Every decision the simulator makes where the vendor's public contract is silent
//! (contract section A, plus the few finer points this simulator had to settle).
//!
//! This is the one module to revisit when real traffic from the live API says otherwise:
//! each constant or function below is documented with the assumption it encodes. The
//! handlers read these values instead of repeating literals.

/// The scheme word of the token request: `Authorization: Password base64(email:password)`
/// (found in the quick start; literally `Password`, not `Basic`).
pub const TOKEN_AUTH_SCHEME: &str = "Password";

/// Token response: `{"access_token", "token_type": "Bearer", "expires_in": <seconds>}`.
pub const TOKEN_TYPE: &str = "Bearer";

/// Default bearer token lifetime in seconds (`expires_in`). Expiry is measured on the
/// simulated clock, so advancing the clock expires tokens; an expired token gets 401.
pub const DEFAULT_TOKEN_LIFETIME_SECS: u64 = 3600;

/// Days an expired resident stays before the automatic purge (found: 31-day grace).
pub const GRACE_DAYS: i64 = residentdesk_domain::rules::GRACE_DAYS;

/// Largest accepted request body. Larger bodies are answered 400 naming the body.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Most items accepted in one import or bulk-action request.
pub const MAX_JOB_ITEMS: usize = 20_000;

/// Default wall-time (on the simulated clock) an import or bulk job takes from `started`
/// to `finished`; items are processed evenly over it, so `progress` rises while polling.
pub const DEFAULT_JOB_DURATION_MS: u64 = 1_500;

/// `Retry-After` (seconds) sent with a 429.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 1;

/// Site types the simulator knows; PSK reset is allowed only on PPK-C and PPK-D (found).
pub const SITE_TYPES: [&str; 3] = ["PPK-C", "PPK-D", "PSK"];

/// `Result` of terminate (found).
pub const RESULT_TERMINATED: &str = "Terminated";
/// `Result` of terminate + purge (found).
pub const RESULT_DELETED: &str = "Deleted";
/// `Result` of invite on a resident who has not onboarded: a new invitation link.
pub const RESULT_INVITATION_SENT: &str = "Invitation sent";
/// `Result` of invite on an onboarded resident: the Wi-Fi network name and passphrase.
pub const RESULT_WIFI_DETAILS_SENT: &str = "WiFi details sent";
/// `Result` of a PSK reset: the portal link was e-mailed.
pub const RESULT_PSK_RESET_SENT: &str = "PSK reset email sent";

/// `Result` of `PATCH .../status`. The vendor reports no error when the change does not
/// apply (suspending a pending resident, say); the simulator answers the requested value
/// (`Active` / `Disabled`) in both cases, so a client must re-read the resident to know.
pub fn status_result(requested: &str) -> String {
    requested.to_string()
}

/// Per-item `result` text of a successful import row.
pub const RESULT_IMPORTED: &str = "Imported";

/// Per-item `result` text of a successful bulk action on one resident.
pub fn bulk_item_result(
    action: residentdesk_domain::BulkAction,
    invite: Option<residentdesk_domain::InviteKind>,
) -> String {
    use residentdesk_domain::{BulkAction as B, InviteKind as K};
    match (action, invite) {
        (B::Suspend, _) => "Suspended".into(),
        (B::Unsuspend, _) => "Unsuspended".into(),
        (B::Terminate, _) => RESULT_TERMINATED.into(),
        (B::TerminatePurge, _) => RESULT_DELETED.into(),
        (B::ResendInvites, Some(K::WifiDetails)) => RESULT_WIFI_DETAILS_SENT.into(),
        (B::ResendInvites, _) => RESULT_INVITATION_SENT.into(),
        (B::OnboardNow, _) => "Onboarding started".into(),
    }
}

/// Terminating a resident that is already expired changes nothing and answers
/// `{"Error": null, "Result": "Terminated"}` (idempotent, like suspend/unsuspend no-ops), so a
/// retried terminate after a lost response is harmless.
pub const TERMINATE_EXPIRED_IS_NOOP: bool = true;

/// `onboard-now` on a scheduled resident moves `ActivationDateUTC` to now, making the
/// resident current and pending, and sends the first invitation. When the earlier start
/// would overlap another tenancy of the unit, the item fails (field `Unit`). The decision is
/// `rules::onboard_now` + `rules::check_occupancy`, the same the core's bulk onboard-now makes.
pub const ONBOARD_NOW_MOVES_ACTIVATION: bool = true;

/// Terminating a resident whose access has not started (Table-4 allows terminating
/// Scheduled residents) sets `DeactivationDateUTC` equal to `ActivationDateUTC` rather than to
/// the day before, which would lie before the start: an empty stay, `["expired"]` at once,
/// and a valid interval that a later PUT (a rename, or a future end to reactivate) accepts.
/// The 31-day grace runs from that end. Decided by `rules::termination_end`, shared with the core.
pub const TERMINATE_BEFORE_START_IS_EMPTY_STAY: bool = true;

/// `POST .../invite` on a Scheduled resident is refused (400): the first invitation goes out
/// on the activation date, so there is nothing to resend, and `resend-invites` leaves
/// Scheduled residents out (Table-4); `onboard-now` sends it early. `rules::invite_kind`
/// decides both.
pub const INVITE_SCHEDULED_REFUSED: bool = true;

/// A back-dated stay that is already over (or empty) frees the unit, like an expired resident:
/// POST/PUT/import of such a resident is not checked against the unit's other stays
/// (`rules::check_occupancy`, shared with the core).
pub const OVER_STAY_FREES_UNIT: bool = true;

/// Email uniqueness is checked across the whole remote system (all teams), expired residents
/// included; comparison is on the trimmed, lowercased address, which is also what is stored.
pub const EMAIL_UNIQUE_SYSTEM_WIDE: bool = true;

/// Expired residents are included in `GET .../resident` during the grace period.
pub const LIST_INCLUDES_EXPIRED: bool = true;

/// Request bodies must carry `Content-Type: application/json` (found); otherwise 400.
pub const REQUIRE_JSON_CONTENT_TYPE: bool = true;

/// POST/PUT resident bodies are strict: unknown fields (including read-only response fields
/// such as `ResidentId` or `Status`) are a 400 naming the field. `Email` on PUT may be sent
/// (unchanged or not); a changed Email is ignored, as the vendor documents.
pub const STRICT_REQUEST_BODIES: bool = true;

/// PUT is a full replacement of the editable fields: an omitted or null `PhoneNumber` or
/// `DeactivationDateUTC` clears it; `FirstName`, `LastName`, `Building`, `Floor`, `Unit` and
/// `ActivationDateUTC` are required as on POST. The response is the updated resident envelope.
pub const PUT_IS_FULL_REPLACEMENT: bool = true;

/// A dropped connection is counted in `/__sim/stats` under status `0`.
pub const DROPPED_STATUS_IN_STATS: u16 = 0;

/// `ActivationDateUTC` / `DeactivationDateUTC` on input: ISO 8601 / RFC 3339 *with* an
/// offset (any offset; stored in UTC, truncated to microseconds). `DeactivationDateUTC`
/// null, absent or empty means open-ended access.
pub const INPUT_DATES_NEED_OFFSET: bool = true;

/// Statuses: 400 invalid body or broken rule, 401 token, 403 outside the account's teams and
/// sites, 404 unknown team/site/resident/job, 409 email exists or unit occupied, 429 rate
/// limited (with `Retry-After`), 5xx injected faults. Error bodies are `{"Error": "..."}`.
pub const ERROR_BODY_KEY: &str = "Error";

/// Finished jobs can be polled for this many days (simulated time), then answer 404.
pub const JOB_RETENTION_DAYS: i64 = 7;

/// A job id belongs to the site it was started on: polling it under another site is 404.
pub const JOBS_SCOPED_TO_SITE: bool = true;

/// Bulk actions with `ResidentIds` report ids that are unknown on the site, or residents not
/// in the statuses the action applies to, as failed items (`field` `ResidentIds` / `Status`).
/// Without `ResidentIds` only the residents eligible when the job starts are included.
pub const BULK_REPORTS_INELIGIBLE_AS_FAILED: bool = true;
