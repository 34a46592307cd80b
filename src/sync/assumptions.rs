//! The sync client's working assumptions where the vendor's contract is silent (contract
//! §A), in one place so they can be checked against the live API on first contact. The
//! simulator keeps the matching list in `sim/src/assumptions.rs`.

/// One assumption: what is unknown, and what the client does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assumption {
    pub topic: &'static str,
    pub assumption: &'static str,
}

/// Every assumption the client relies on.
pub const ASSUMPTIONS: &[Assumption] = &[
    Assumption {
        topic: "token",
        assumption: "POST /oauth/token with `Authorization: Password base64(email:password)` answers \
                     {access_token, token_type, expires_in}; an expired or bad token gets 401. The client \
                     renews once on 401, then asks for the credentials again.",
    },
    Assumption {
        topic: "errors",
        assumption: "Errors are `{\"Error\": \"message\"}` with 400/403/404/409 (permanent), 429 with \
                     Retry-After seconds, 5xx. A 5xx or 429 answer means the request was NOT applied, so \
                     it is resent; only a missing or cut-off answer leaves a write's outcome unknown.",
    },
    Assumption {
        topic: "409",
        assumption: "409 means the email exists or the unit is occupied; a message or `field` naming the \
                     Unit (\"occupied\") is a unit taken remotely, recorded as a conflict.",
    },
    Assumption {
        topic: "resident reads",
        assumption: "Residents come in {Error, Residents:[...]}; the phone is read from PhoneNumber, Phone or \
                     Mobile in that order; Status is kept as given; `suspended` in Status means suspended; \
                     OnboardedAt is UTC without offset.",
    },
    Assumption {
        topic: "PUT",
        assumption: "PUT takes the complete editable object; the client fills fields it did not change with \
                     the remote's current values so a PUT never overwrites someone else's change.",
    },
    Assumption {
        topic: "import",
        assumption: "POST .../resident/import takes {Residents:[ResidentInput...]} and answers {job_id}; the \
                     finished job lists success and failed items with the resident's Email (and ResidentId \
                     on success), matched back to outbox entries by email.",
    },
    Assumption {
        topic: "bulk action",
        assumption: "POST .../resident/bulkaction takes {Action, ResidentIds}; the finished job lists items by \
                     ResidentId. `onboard-now` exists only as a bulk action, so it is always sent as a job.",
    },
    Assumption {
        topic: "job status",
        assumption: "GET .../import/{job_id} and .../bulkaction/{job_id} answer {status: started|finished, \
                     progress, total, success, failed, result}; a job id the remote no longer knows (404) \
                     means the outcome must be looked up from the residents list.",
    },
    Assumption {
        topic: "idempotency",
        assumption: "PUT, PATCH status, terminate and purge can be resent safely (purge of an unknown \
                     resident, 404, counts as done). Creates are looked up by email before resending. \
                     Invites, PSK resets and onboard-now are sent at most once per outbox entry: when a \
                     crash or a lost answer leaves their outcome unknown, the entry is rejected with that \
                     reason and a person may retry it.",
    },
    Assumption {
        topic: "list contents",
        assumption: "GET .../resident lists every resident of the site, expired ones during their 31-day \
                     grace included; a resident missing from the list has been purged remotely.",
    },
    Assumption {
        topic: "teams and sites",
        assumption: "GET /team items are {TeamId, Name}; GET /team/{id}/site items are {SiteId, Name, SiteType, \
                     TimeZone}. A local team or site without a remote id is linked to the remote one of the \
                     same name (case-insensitive) on first contact.",
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_assumption_is_stated() {
        assert!(ASSUMPTIONS.len() >= 10);
        for a in ASSUMPTIONS {
            assert!(!a.topic.is_empty() && a.assumption.len() > 40, "{}", a.topic);
        }
    }
}
