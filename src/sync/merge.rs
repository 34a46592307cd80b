//! The 3-way merge per field (pure): base = the values last pulled, local = the resident
//! with its pending changes, remote = what the remote has now.
//!
//! For each editable field: not changed locally (no unfinished outbox entry touches it) →
//! the remote value is taken; changed locally and unchanged remotely (remote = base), or
//! both sides agree → the local value stays (push sends it); changed on both sides to
//! different values → a conflict with both values. Changes to different fields merge.

use crate::store::residents::{Resident, ResidentFields};
use residentdesk_domain::dates::{format_wire_utc, parse_wire_utc};
use residentdesk_domain::vocab::ResidentField;
use residentdesk_domain::wire::ResidentObject;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The editable fields (`ResidentField::EDITABLE`), by API name.
pub const FIELDS: [ResidentField; 8] = ResidentField::EDITABLE;

/// Both values (and the base) of one disputed field.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldConflict {
    pub base: Value,
    pub local: Value,
    pub remote: Value,
}

/// The result of merging one resident.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldMerge {
    /// The values the local resident should have now.
    pub merged: Map<String, Value>,
    /// Whether `merged` differs from the local values.
    pub local_changed: bool,
    pub conflicts: BTreeMap<String, FieldConflict>,
}

fn norm_date(v: Option<&Value>) -> Value {
    match v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => parse_wire_utc(s).map(|d| Value::String(format_wire_utc(d))).unwrap_or(Value::String(s.into())),
        None => Value::Null,
    }
}

fn norm_text(v: Option<&Value>) -> Value {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Value::String(s.trim().to_string()),
        Some(Value::Number(n)) => Value::String(n.to_string()),
        _ => Value::Null,
    }
}

/// Normalises a field map (wire names) so equal values compare equal: trimmed text, empty →
/// null, instants in one UTC form.
pub fn normalize(map: &Map<String, Value>) -> Map<String, Value> {
    FIELDS
        .iter()
        .map(|f| {
            let key = f.as_str();
            let v = match f {
                ResidentField::ActivationDateUTC | ResidentField::DeactivationDateUTC => norm_date(map.get(key)),
                _ => norm_text(map.get(key)),
            };
            (key.to_string(), v)
        })
        .collect()
}

/// The editable fields of a remote resident, normalised.
pub fn remote_fields(r: &ResidentObject) -> Map<String, Value> {
    let mut m = Map::new();
    let s = |v: &Option<String>| v.clone().map(Value::String).unwrap_or(Value::Null);
    let mut put = |f: ResidentField, v: Value| m.insert(f.as_str().into(), v);
    put(ResidentField::FirstName, s(&r.first_name));
    put(ResidentField::LastName, s(&r.last_name));
    put(ResidentField::PhoneNumber, r.any_phone().map(|p| Value::String(p.into())).unwrap_or(Value::Null));
    put(ResidentField::Building, s(&r.building));
    put(ResidentField::Floor, s(&r.floor));
    put(ResidentField::Unit, s(&r.unit));
    put(ResidentField::ActivationDateUTC, s(&r.activation_date_utc));
    put(ResidentField::DeactivationDateUTC, s(&r.deactivation_date_utc));
    normalize(&m)
}

/// The editable fields of a local resident, normalised.
pub fn local_fields(r: &Resident) -> Map<String, Value> {
    match serde_json::to_value(r.wire_input()).unwrap_or(Value::Null) {
        Value::Object(m) => normalize(&m),
        _ => Map::new(),
    }
}

/// The base to keep after a write the remote answered with `answered`. A field takes the
/// answered value only where this desk's row `local` holds the same value (the two now agree
/// on it); every other field keeps the base it had (`old`, or the row's value when there is
/// none). The answer may carry another desk's value of a field this row has not merged yet:
/// as the base it would hide that value from the next pull, and let a person who edits the
/// field, still seeing the old value, overwrite it without a conflict.
pub fn agreed_base(
    old: Option<&Map<String, Value>>,
    local: &Map<String, Value>,
    answered: &Map<String, Value>,
) -> Map<String, Value> {
    let (l, a) = (normalize(local), normalize(answered));
    let mut base = old.cloned().unwrap_or_else(|| local.clone());
    for (field, value) in answered {
        if l.get(field) == a.get(field) {
            base.insert(field.clone(), value.clone());
        }
    }
    base
}

/// Turns merged wire values back into local fields (`None` when a required value is
/// missing or unreadable).
pub fn to_fields(m: &Map<String, Value>) -> Option<ResidentFields> {
    let text = |f: ResidentField| m.get(f.as_str()).and_then(Value::as_str).map(str::to_string);
    Some(ResidentFields {
        first_name: text(ResidentField::FirstName)?,
        last_name: text(ResidentField::LastName)?,
        phone: text(ResidentField::PhoneNumber).unwrap_or_default(),
        building: text(ResidentField::Building)?,
        floor: text(ResidentField::Floor)?,
        unit: text(ResidentField::Unit)?,
        activation_utc: parse_wire_utc(&text(ResidentField::ActivationDateUTC)?)?,
        deactivation_utc: match text(ResidentField::DeactivationDateUTC) {
            Some(t) => Some(parse_wire_utc(&t)?),
            None => None,
        },
    })
}

/// Merges one resident. `pending` are the fields touched by unfinished local entries;
/// `base` the values last pulled (none on first contact: remote changes then cannot be
/// told apart, so a pending local value is kept).
pub fn merge(
    base: Option<&Map<String, Value>>,
    local: &Map<String, Value>,
    remote: &Map<String, Value>,
    pending: &BTreeSet<String>,
) -> FieldMerge {
    let mut out = FieldMerge::default();
    for f in FIELDS.map(ResidentField::as_str) {
        let l = local.get(f).cloned().unwrap_or(Value::Null);
        let r = remote.get(f).cloned().unwrap_or(Value::Null);
        let b = base.and_then(|b| b.get(f)).cloned();
        let value = if !pending.contains(f) || l == r {
            r
        } else {
            match b {
                None => l.clone(),
                Some(b) if b == r => l.clone(),
                Some(b) => {
                    out.conflicts.insert(f.to_string(), FieldConflict { base: b, local: l.clone(), remote: r });
                    l.clone()
                }
            }
        };
        if value != l {
            out.local_changed = true;
        }
        out.merged.insert(f.to_string(), value);
    }
    out
}

/// What a field conflict says in the outbox and the CLI (English, the fields in words; the
/// conflict's `fields` keep the API names for `--json` and the desktop's catalog).
pub fn disputed_message<'a>(fields: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> =
        fields.map(|f| residentdesk_domain::ResidentField::parse(f).map(|r| r.label()).unwrap_or(f.as_str())).collect();
    format!("changed here and in Site Manager: {}", names.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        normalize(v.as_object().unwrap())
    }
    fn set(f: &[&str]) -> BTreeSet<String> {
        f.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn after_a_write_the_base_agrees_only_where_the_row_holds_the_answer() {
        let map = |pairs: &[(&str, &str)]| -> Map<String, Value> {
            pairs.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect()
        };
        let old = map(&[("FirstName", "Ann"), ("PhoneNumber", "555-0000")]);
        let local = map(&[("FirstName", "Anna"), ("PhoneNumber", "555-0000")]);
        // The PUT sent the new first name; another desk's phone came along in the answer.
        let answered = map(&[("FirstName", "Anna"), ("PhoneNumber", "555-0999")]);
        let agreed = agreed_base(Some(&old), &local, &answered);
        assert_eq!(agreed["FirstName"], "Anna", "sent and answered: agreed");
        assert_eq!(agreed["PhoneNumber"], "555-0000", "not merged here yet: the old base stays");
        let agreed = agreed_base(None, &local, &answered);
        assert_eq!(agreed["PhoneNumber"], "555-0000", "no base yet: the row's value");
    }

    #[test]
    fn merge_table() {
        let base = m(json!({"FirstName": "Ann", "LastName": "Lee", "Unit": "101"}));
        struct Case {
            name: &'static str,
            local: Value,
            remote: Value,
            pending: &'static [&'static str],
            want_first: &'static str,
            want_unit: &'static str,
            conflicts: &'static [&'static str],
        }
        let cases = [
            Case {
                name: "remote change, no local change → remote",
                local: json!({"FirstName": "Ann", "LastName": "Lee", "Unit": "101"}),
                remote: json!({"FirstName": "Anne", "LastName": "Lee", "Unit": "101"}),
                pending: &[],
                want_first: "Anne",
                want_unit: "101",
                conflicts: &[],
            },
            Case {
                name: "different fields merge",
                local: json!({"FirstName": "Ann", "LastName": "Lee", "Unit": "102"}),
                remote: json!({"FirstName": "Anne", "LastName": "Lee", "Unit": "101"}),
                pending: &["Unit"],
                want_first: "Anne",
                want_unit: "102",
                conflicts: &[],
            },
            Case {
                name: "same field both sides → conflict, local kept",
                local: json!({"FirstName": "Annie", "LastName": "Lee", "Unit": "101"}),
                remote: json!({"FirstName": "Anne", "LastName": "Lee", "Unit": "101"}),
                pending: &["FirstName"],
                want_first: "Annie",
                want_unit: "101",
                conflicts: &["FirstName"],
            },
            Case {
                name: "both sides to the same value → no conflict",
                local: json!({"FirstName": "Anne", "LastName": "Lee", "Unit": "101"}),
                remote: json!({"FirstName": "Anne", "LastName": "Lee", "Unit": "101"}),
                pending: &["FirstName"],
                want_first: "Anne",
                want_unit: "101",
                conflicts: &[],
            },
        ];
        for c in cases {
            let out = merge(Some(&base), &m(c.local), &m(c.remote), &set(c.pending));
            assert_eq!(out.merged["FirstName"], c.want_first, "{}", c.name);
            assert_eq!(out.merged["Unit"], c.want_unit, "{}", c.name);
            assert_eq!(out.conflicts.keys().map(String::as_str).collect::<Vec<_>>(), c.conflicts, "{}", c.name);
        }
    }

    #[test]
    fn dates_and_empty_phone_compare_normalised() {
        let a = m(json!({"ActivationDateUTC": "2026-01-02T03:04:05+00:00", "PhoneNumber": ""}));
        let b = m(json!({"ActivationDateUTC": "2026-01-02T04:04:05+01:00", "PhoneNumber": null}));
        assert_eq!(a, b);
        let out = merge(None, &a, &b, &set(&["ActivationDateUTC"]));
        assert!(!out.local_changed && out.conflicts.is_empty());
    }
}
