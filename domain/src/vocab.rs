//! The one vocabulary: names that several modules (the store, sync, the use cases, the CSV
//! code and the desktop's UI through ts-rs) must spell alike. Each is a type here, with the
//! exact text the database, the wire format and the CLI's `--json` already use.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares a closed text vocabulary: `as_str`, `parse`, `ALL`, `Display` and the comparisons
/// with the stored text (`entry.state == OutboxState::Pending`).
macro_rules! vocabulary {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The text stored, sent and printed for this value.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            /// The value this text names, if any.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.as_str()
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }
    };
}

/// A resident field a person edits, by its Site Manager API name (the wire format's keys, the
/// merge's field names, the CSV's canonical columns, the form's fields). The variants are
/// spelled as the API spells them, so serde needs no renames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum ResidentField {
    FirstName,
    LastName,
    Email,
    PhoneNumber,
    Building,
    Floor,
    Unit,
    ActivationDateUTC,
    DeactivationDateUTC,
}

vocabulary!(ResidentField {
    FirstName => "FirstName",
    LastName => "LastName",
    Email => "Email",
    PhoneNumber => "PhoneNumber",
    Building => "Building",
    Floor => "Floor",
    Unit => "Unit",
    ActivationDateUTC => "ActivationDateUTC",
    DeactivationDateUTC => "DeactivationDateUTC",
});

impl ResidentField {
    /// The fields an update may change (all but the email, which identifies the resident).
    pub const EDITABLE: [ResidentField; 8] = [
        ResidentField::FirstName,
        ResidentField::LastName,
        ResidentField::PhoneNumber,
        ResidentField::Building,
        ResidentField::Floor,
        ResidentField::Unit,
        ResidentField::ActivationDateUTC,
        ResidentField::DeactivationDateUTC,
    ];

    /// The field's name in words, as a person reads it (the CLI's human output; the desktop
    /// has the same words in its catalog, per language).
    pub const fn label(self) -> &'static str {
        match self {
            ResidentField::FirstName => "First name",
            ResidentField::LastName => "Last name",
            ResidentField::Email => "Email",
            ResidentField::PhoneNumber => "Phone",
            ResidentField::Building => "Building",
            ResidentField::Floor => "Floor",
            ResidentField::Unit => "Unit",
            ResidentField::ActivationDateUTC => "Access start",
            ResidentField::DeactivationDateUTC => "Access end",
        }
    }

    /// The fields that say who and where a resident is (names and place, no dates).
    pub const IDENTITY: [ResidentField; 5] = [
        ResidentField::FirstName,
        ResidentField::LastName,
        ResidentField::Building,
        ResidentField::Floor,
        ResidentField::Unit,
    ];
}

/// The state of an outbox entry (stored in `outbox.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename_all = "snake_case"))]
pub enum OutboxState {
    Pending,
    InFlight,
    Rejected,
    Conflict,
    Done,
    Discarded,
}

vocabulary!(OutboxState {
    Pending => "pending",
    InFlight => "in_flight",
    Rejected => "rejected",
    Conflict => "conflict",
    Done => "done",
    Discarded => "discarded",
});

impl OutboxState {
    /// The states of an entry not yet settled (it still holds its resident's chain).
    pub const OPEN: [OutboxState; 4] =
        [OutboxState::Pending, OutboxState::InFlight, OutboxState::Rejected, OutboxState::Conflict];

    /// Whether the entry is settled for good.
    pub const fn is_settled(self) -> bool {
        matches!(self, OutboxState::Done | OutboxState::Discarded)
    }
}

/// The operation an outbox entry asks of the remote (stored in `outbox.op`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename_all = "snake_case"))]
pub enum OutboxOp {
    Create,
    Update,
    Suspend,
    Unsuspend,
    Terminate,
    Purge,
    Invite,
    OnboardNow,
    PskReset,
}

vocabulary!(OutboxOp {
    Create => "create",
    Update => "update",
    Suspend => "suspend",
    Unsuspend => "unsuspend",
    Terminate => "terminate",
    Purge => "purge",
    Invite => "invite",
    OnboardNow => "onboard_now",
    PskReset => "psk_reset",
});

/// What a sync conflict is about (stored in `conflicts.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "ts", ts(rename_all = "snake_case"))]
pub enum ConflictKind {
    /// The same field changed here and on the remote.
    Field,
    /// The resident was purged on the remote while changed here.
    RemotePurge,
    /// The unit was taken on the remote.
    UnitTaken,
}

vocabulary!(ConflictKind {
    Field => "field",
    RemotePurge => "remote_purge",
    UnitTaken => "unit_taken",
});

/// The key of a local resident's chain (its outbox entries in order, its pull-side changes):
/// `r{id}`. Entries without a local resident are keyed by email (`e…`) or otherwise apart
/// (`x…`) by their callers.
pub fn chain_key(resident_id: i64) -> String {
    format!("r{resident_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T>(all: &[T], as_str: fn(T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: Copy + PartialEq + fmt::Debug + Serialize + for<'de> Deserialize<'de>,
    {
        for v in all {
            let text = as_str(*v);
            assert_eq!(parse(text), Some(*v));
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::Value::String(text.into()), "{v:?}");
            assert_eq!(serde_json::from_value::<T>(text.into()).unwrap(), *v);
        }
    }

    #[test]
    fn the_texts_are_the_stored_and_wire_ones() {
        round_trips(&ResidentField::ALL, ResidentField::as_str, ResidentField::parse);
        round_trips(&OutboxState::ALL, OutboxState::as_str, OutboxState::parse);
        round_trips(&OutboxOp::ALL, OutboxOp::as_str, OutboxOp::parse);
        round_trips(&ConflictKind::ALL, ConflictKind::as_str, ConflictKind::parse);
        assert_eq!(
            ResidentField::ALL.map(ResidentField::as_str),
            [
                "FirstName",
                "LastName",
                "Email",
                "PhoneNumber",
                "Building",
                "Floor",
                "Unit",
                "ActivationDateUTC",
                "DeactivationDateUTC"
            ]
        );
        assert!(!ResidentField::EDITABLE.contains(&ResidentField::Email));
        assert_eq!(ResidentField::EDITABLE.len() + 1, ResidentField::ALL.len());
        assert_eq!(OutboxState::InFlight.as_str(), "in_flight");
        assert_eq!(OutboxOp::OnboardNow.as_str(), "onboard_now");
        assert_eq!(ConflictKind::RemotePurge.as_str(), "remote_purge");
        assert_eq!(OutboxState::parse("nope"), None);
        let stored = String::from("pending");
        assert!(stored == OutboxState::Pending && *"in_flight" == OutboxState::InFlight);
        assert_eq!(chain_key(7), "r7");
    }
}
