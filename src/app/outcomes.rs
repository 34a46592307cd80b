//! What a lifecycle action did, as a stable code with typed parameters (`said`): the desktop
//! says it from its catalog in the person's language, the CLI prints the English of
//! [`fmt::Display`] (the glossary's words: "deleted permanently", "Wi-Fi key"), and `--json`
//! keeps both.

use super::sync::Keep;
use chrono::NaiveDate;
use residentdesk_domain::status::StatusFlags;
use residentdesk_domain::vocab::ResidentField;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;

/// The result of one resident action, by kind, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "said", rename_all = "snake_case")]
pub enum ActionSaid {
    Suspended {
        name: String,
    },
    Unsuspended {
        name: String,
    },
    /// The change does not apply to the resident's status (e.g. suspending an ended access).
    NothingToDo {
        name: String,
        #[cfg_attr(feature = "ts", ts(as = "Vec<residentdesk_domain::status::StatusFlag>"))]
        status: StatusFlags,
    },
    /// Access ended on `day` (the site's calendar day).
    Terminated {
        name: String,
        day: NaiveDate,
    },
    AlreadyEnded {
        name: String,
    },
    /// Access given back; it ends on `until` (the site's day), or never.
    Reinstated {
        name: String,
        until: Option<NaiveDate>,
    },
    DeletedPermanently {
        name: String,
    },
    InvitationResent {
        email: String,
    },
    WifiDetailsResent {
        email: String,
    },
    WifiKeyReset {
        email: String,
    },
}

impl fmt::Display for ActionSaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ActionSaid::Suspended { name } => write!(f, "{name} suspended"),
            ActionSaid::Unsuspended { name } => write!(f, "{name} unsuspended"),
            ActionSaid::NothingToDo { name, status } => write!(f, "nothing to do: {name} is {status}"),
            ActionSaid::Terminated { name, day } => write!(f, "{name} terminated; access ended {day}"),
            ActionSaid::AlreadyEnded { name } => write!(f, "{name} is already expired"),
            ActionSaid::Reinstated { name, until: Some(day) } => write!(f, "{name} reinstated; access until {day}"),
            ActionSaid::Reinstated { name, until: None } => write!(f, "{name} reinstated; access is open-ended"),
            ActionSaid::DeletedPermanently { name } => write!(f, "{name} deleted permanently"),
            ActionSaid::InvitationResent { email } => write!(f, "a new invitation will be sent to {email}"),
            ActionSaid::WifiDetailsResent { email } => write!(f, "the Wi-Fi details will be sent to {email}"),
            ActionSaid::WifiKeyReset { email } => {
                write!(f, "{email} will get a link to reset their personal Wi-Fi key")
            }
        }
    }
}

/// One resident's result in a bulk action, by kind (beside the English `result`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "said", rename_all = "snake_case")]
pub enum BulkSaid {
    /// The action was applied.
    Done,
    /// The action does not apply to a resident with this status.
    NotApplicable {
        #[cfg_attr(feature = "ts", ts(as = "Vec<residentdesk_domain::status::StatusFlag>"))]
        status: StatusFlags,
    },
    /// A rule refused it (with the rule, when one said no).
    Refused {
        #[serde(skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "ts", ts(optional))]
        rule: Option<residentdesk_domain::RuleError>,
    },
}

/// What resolving a conflict did, by kind, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "said", rename_all = "snake_case")]
pub enum ResolvedSaid {
    /// Each disputed field with the side kept.
    Kept { fields: BTreeMap<ResidentField, Keep> },
    /// The resident purged in Site Manager will be created there again.
    CreatedAgain { email: String },
    /// The resident purged in Site Manager is removed here too.
    RemovedHere { email: String },
    /// The resident no longer exists on this desk.
    Gone,
    /// The change waiting on a taken unit will be sent again.
    SentAgain,
    /// The resident was never created in Site Manager, and is removed here.
    NotCreated { email: String },
    /// The resident keeps the unit Site Manager has.
    StaysInRemoteUnit { email: String },
}

fn side(k: Keep) -> &'static str {
    match k {
        Keep::Local => "this desk's",
        Keep::Remote => "Site Manager's",
    }
}

impl fmt::Display for ResolvedSaid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolvedSaid::Kept { fields } => {
                let kept: Vec<String> =
                    fields.iter().map(|(field, k)| format!("{} {}", side(*k), field.label())).collect();
                write!(f, "kept {}", kept.join(", "))
            }
            ResolvedSaid::CreatedAgain { email } => write!(f, "{email} will be created again in Site Manager"),
            ResolvedSaid::RemovedHere { email } => write!(f, "{email} removed here too"),
            ResolvedSaid::Gone => f.write_str("the resident no longer exists here"),
            ResolvedSaid::SentAgain => {
                f.write_str("the change will be sent again (free the unit in Site Manager first)")
            }
            ResolvedSaid::NotCreated { email } => write!(f, "{email} was not created; removed here"),
            ResolvedSaid::StaysInRemoteUnit { email } => write!(f, "{email} stays in the unit Site Manager has"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outcomes_cross_as_codes_and_read_as_words() {
        let said = ActionSaid::NothingToDo { name: "Ava Reed".into(), status: StatusFlags::empty() };
        assert_eq!(
            serde_json::to_value(&said).unwrap(),
            json!({"said": "nothing_to_do", "name": "Ava Reed", "status": []})
        );
        let kept = ResolvedSaid::Kept {
            fields: [(ResidentField::FirstName, Keep::Local), (ResidentField::ActivationDateUTC, Keep::Remote)].into(),
        };
        assert_eq!(
            serde_json::to_value(&kept).unwrap(),
            json!({"said": "kept", "fields": {"FirstName": "local", "ActivationDateUTC": "remote"}})
        );
        assert_eq!(kept.to_string(), "kept this desk's First name, Site Manager's Access start");
    }
}
