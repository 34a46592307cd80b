//! The sync client's working assumptions where the vendor's contract is silent (contract
//! §A), in one place so they can be checked against the live API on first contact
//! (`residentdesk remote check`, [`super::check`]). The simulator keeps the matching list in
//! `sim/src/assumptions.rs`, and can contradict each checkable one on request
//! (`sim/src/contradict.rs`, same ids).
//!
//! Every assumption has a stable id (reports, the stored last check and the simulator's
//! switch use it), one sentence, whether a push depends on it (a push is held while the
//! last check contradicts one of those) and what a read-only check can look at, if anything.

/// One assumption: what is unknown, and what the client does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assumption {
    /// Stable id, `topic.detail` (never renamed: stored checks refer to it).
    pub id: &'static str,
    pub topic: &'static str,
    /// The assumption in one sentence.
    pub assumption: &'static str,
    /// Whether sending changes relies on it: while the last check contradicts it, the sync
    /// holds the push (pull goes on).
    pub push: bool,
    /// What the read-only check looks at; `None`: only a write could show it, so the check
    /// always reports it "not exercised".
    pub checked_by: Option<&'static str>,
}

/// Every assumption the client relies on.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        id: "token.shape",
        topic: "token",
        assumption: "POST /oauth/token with `Authorization: Password base64(email:password)` answers \
                     {access_token, token_type: \"Bearer\", expires_in: seconds}.",
        push: true,
        checked_by: Some("the token answer"),
    },
    Assumption {
        id: "token.bad_is_401",
        topic: "token",
        assumption: "An expired or bad bearer token gets HTTP 401; the client renews once on 401, then asks \
                     for the credentials again.",
        push: true,
        checked_by: Some("GET /team with a deliberately bad token"),
    },
    Assumption {
        id: "errors.body",
        topic: "errors",
        assumption: "Error answers carry `{\"Error\": \"message\"}`; the message is what a rejected change \
                     shows (a 409 naming the Unit is recorded as a unit taken remotely).",
        push: true,
        checked_by: Some("the bodies of the 401 and 404 answers the check provokes"),
    },
    Assumption {
        id: "errors.retry_after",
        topic: "errors",
        assumption: "A 429 (or 503) carries Retry-After in whole seconds, which the retry layer honours.",
        push: false,
        checked_by: Some("any 429 or 503 answered during the check"),
    },
    Assumption {
        id: "errors.not_applied",
        topic: "errors",
        assumption: "400/403/404/409 are permanent; a 5xx or 429 answer means the request was NOT applied, so \
                     it is resent; only a missing or cut-off answer leaves a write's outcome unknown.",
        push: true,
        checked_by: None,
    },
    Assumption {
        id: "teams.shape",
        topic: "teams and sites",
        assumption: "GET /team answers {Teams: [{TeamId, Name}]}; a local team without a remote id is linked to \
                     the remote team of the same name (case-insensitive).",
        push: true,
        checked_by: Some("GET /team"),
    },
    Assumption {
        id: "sites.shape",
        topic: "teams and sites",
        assumption: "GET /team/{id}/site answers {Sites: [{SiteId, Name, SiteType, TimeZone}]} with an IANA \
                     TimeZone; dates sent to the remote are computed in that zone.",
        push: true,
        checked_by: Some("GET /team/{id}/site"),
    },
    Assumption {
        id: "mappings.shape",
        topic: "mappings",
        assumption: "GET .../mappings answers {Mappings: [{Building, Floor, Unit, Passphrase, SSID, Vlan}]}, all \
                     strings; a resident's Building/Floor/Unit are checked against them before they are sent.",
        push: true,
        checked_by: Some("GET .../mappings of one site"),
    },
    Assumption {
        id: "residents.envelope",
        topic: "resident reads",
        assumption: "Residents come in {\"Error\": null, \"Residents\": [...]} (lists, one resident, and the \
                     answers to POST and PUT).",
        push: true,
        checked_by: Some("GET .../resident of one site"),
    },
    Assumption {
        id: "residents.fields",
        topic: "resident reads",
        assumption: "Each resident carries ResidentId, Email, FirstName, LastName, Building, Floor, Unit and \
                     ActivationDateUTC / DeactivationDateUTC as ISO 8601 with an offset (or null); a PUT \
                     fills the fields it did not change from these.",
        push: true,
        checked_by: Some("every resident of one site"),
    },
    Assumption {
        id: "residents.phone",
        topic: "resident reads",
        assumption: "The phone is read from PhoneNumber, Phone or Mobile, in that order (sent as PhoneNumber); a \
                     phone under another name would be cleared by the next PUT.",
        push: true,
        checked_by: Some("the keys of every resident of one site"),
    },
    Assumption {
        id: "residents.status",
        topic: "resident reads",
        assumption: "Status is an array of lowercase labels among scheduled, current, pending, suspended and \
                     expired; `suspended` in it means suspended.",
        push: true,
        checked_by: Some("the Status of every resident of one site"),
    },
    Assumption {
        id: "residents.onboarded_at",
        topic: "resident reads",
        assumption: "OnboardedAt is a UTC date-time without an offset (or null before onboarding).",
        push: false,
        checked_by: Some("the OnboardedAt of every resident of one site"),
    },
    Assumption {
        id: "residents.list_expired",
        topic: "list contents",
        assumption: "GET .../resident lists every resident of the site, expired ones during their 31-day grace \
                     included; a resident missing from the list has been purged remotely.",
        push: false,
        checked_by: Some("an expired resident in the list of one site (held when one is listed)"),
    },
    Assumption {
        id: "resident.put_full",
        topic: "PUT",
        assumption: "PUT takes the complete editable object; the client fills fields it did not change with the \
                     remote's current values so a PUT never overwrites someone else's change.",
        push: true,
        checked_by: None,
    },
    Assumption {
        id: "resident.conflict_409",
        topic: "409",
        assumption: "409 means the email exists or the unit is occupied; a message or `field` naming the Unit \
                     (\"occupied\") is a unit taken remotely, recorded as a conflict.",
        push: true,
        checked_by: None,
    },
    Assumption {
        id: "import.shape",
        topic: "import",
        assumption: "POST .../resident/import takes {Residents: [ResidentInput...]} and answers {job_id}; the \
                     finished job lists success and failed items with the resident's Email (and ResidentId on \
                     success), matched back to outbox entries by email.",
        push: true,
        checked_by: None,
    },
    Assumption {
        id: "bulk.shape",
        topic: "bulk action",
        assumption: "POST .../resident/bulkaction takes {Action, ResidentIds}; the finished job lists items by \
                     ResidentId. `onboard-now` exists only as a bulk action, so it is always sent as a job.",
        push: true,
        checked_by: None,
    },
    Assumption {
        id: "jobs.status_shape",
        topic: "job status",
        assumption: "GET .../import/{job_id} and .../bulkaction/{job_id} answer {status: started|finished, \
                     progress, total, success, failed}, plus result {success: [...], failed: [...]} once finished.",
        push: true,
        checked_by: Some("the status of the last job this desk started, when the remote still knows it"),
    },
    Assumption {
        id: "jobs.unknown_is_404",
        topic: "job status",
        assumption: "A job id the remote does not (or no longer) know answers 404, and the outcome is then looked \
                     up from the residents list.",
        push: true,
        checked_by: Some("GET .../import/{a job id that does not exist}"),
    },
    Assumption {
        id: "idempotency",
        topic: "idempotency",
        assumption: "PUT, PATCH status, terminate and purge can be resent safely (purge of an unknown resident, \
                     404, counts as done); creates are looked up by email before resending; invites, PSK resets \
                     and onboard-now are sent at most once per outbox entry.",
        push: true,
        checked_by: None,
    },
];

/// The assumption of this id.
pub fn by_id(id: &str) -> Option<&'static Assumption> {
    ASSUMPTIONS.iter().find(|a| a.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_assumption_is_stated() {
        assert!(ASSUMPTIONS.len() >= 10);
        let ids: BTreeSet<&str> = ASSUMPTIONS.iter().map(|a| a.id).collect();
        assert_eq!(ids.len(), ASSUMPTIONS.len(), "ids are unique");
        for a in ASSUMPTIONS {
            assert!(!a.topic.is_empty() && a.assumption.len() > 40, "{}", a.id);
            assert!(
                a.id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_'),
                "{}",
                a.id
            );
        }
        assert_eq!(by_id("token.shape").map(|a| a.push), Some(true));
    }
}
