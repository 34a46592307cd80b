//! Push planning (pure): coalescing outbox entries per resident into the fewest remote
//! actions, and grouping the next action of many residents into import and bulk-action jobs.
//!
//! Coalescing, per resident and in entry order:
//! - create + updates → one create with the latest values;
//! - several updates in a row → one PUT (changed fields united, base of each field from the
//!   first entry that touched it);
//! - create … purge → nothing is sent (every entry done);
//! - anything … purge → only the purge;
//! - consecutive suspend/unsuspend → the last one; repeated terminate or invite → one.

use crate::store::outbox::Entry;
use residentdesk_domain::{vocab, BulkAction, OutboxOp};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// A lifecycle operation (everything but create and update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LifeOp {
    Terminate,
    Purge,
    Invite,
    OnboardNow,
    PskReset,
    Suspend,
    Unsuspend,
}

impl LifeOp {
    pub fn parse(op: &str) -> Option<LifeOp> {
        Some(match OutboxOp::parse(op)? {
            OutboxOp::Terminate => LifeOp::Terminate,
            OutboxOp::Purge => LifeOp::Purge,
            OutboxOp::Invite => LifeOp::Invite,
            OutboxOp::OnboardNow => LifeOp::OnboardNow,
            OutboxOp::PskReset => LifeOp::PskReset,
            OutboxOp::Suspend => LifeOp::Suspend,
            OutboxOp::Unsuspend => LifeOp::Unsuspend,
            OutboxOp::Create | OutboxOp::Update => return None,
        })
    }
    /// The outbox operation this is.
    pub fn op(self) -> OutboxOp {
        match self {
            LifeOp::Terminate => OutboxOp::Terminate,
            LifeOp::Purge => OutboxOp::Purge,
            LifeOp::Invite => OutboxOp::Invite,
            LifeOp::OnboardNow => OutboxOp::OnboardNow,
            LifeOp::PskReset => OutboxOp::PskReset,
            LifeOp::Suspend => OutboxOp::Suspend,
            LifeOp::Unsuspend => OutboxOp::Unsuspend,
        }
    }
    pub fn as_str(self) -> &'static str {
        self.op().as_str()
    }
    /// The bulk action doing the same thing, if there is one (PSK reset has none).
    pub fn bulk(self) -> Option<BulkAction> {
        Some(match self {
            LifeOp::Terminate => BulkAction::Terminate,
            LifeOp::Purge => BulkAction::TerminatePurge,
            LifeOp::Invite => BulkAction::ResendInvites,
            LifeOp::OnboardNow => BulkAction::OnboardNow,
            LifeOp::Suspend => BulkAction::Suspend,
            LifeOp::Unsuspend => BulkAction::Unsuspend,
            LifeOp::PskReset => return None,
        })
    }
    /// Whether resending is harmless (invites, PSK resets and onboard-now are at most once).
    pub fn idempotent(self) -> bool {
        !matches!(self, LifeOp::Invite | LifeOp::PskReset | LifeOp::OnboardNow)
    }
}

/// What one coalesced action does.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// POST (or an import row) with this wire `ResidentInput` object.
    Create {
        body: Value,
    },
    /// PUT of `body` (the latest full local values); `changed` fields with their bases.
    Update {
        body: Value,
        changed: BTreeSet<String>,
        base: Map<String, Value>,
    },
    Life(LifeOp),
    /// Nothing to send (create + purge cancel out).
    Nothing,
    /// An operation this version does not know; rejected with its name, never dropped.
    Unknown(String),
}

/// One remote action covering one or more outbox entries of one resident.
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    pub site_id: i64,
    pub resident_id: Option<i64>,
    pub remote_id: Option<String>,
    pub email: Option<String>,
    pub kind: ActionKind,
    pub entry_ids: Vec<i64>,
}

impl Action {
    pub fn op_name(&self) -> &'static str {
        match &self.kind {
            ActionKind::Create { .. } => OutboxOp::Create.as_str(),
            ActionKind::Update { .. } => OutboxOp::Update.as_str(),
            ActionKind::Life(op) => op.as_str(),
            ActionKind::Nothing => "nothing",
            ActionKind::Unknown(_) => "unknown",
        }
    }
}

fn chain_key(e: &Entry) -> String {
    match (e.resident_id, &e.email) {
        (Some(id), _) => vocab::chain_key(id),
        (None, Some(email)) => format!("e{email}"),
        (None, None) => format!("x{}", e.id),
    }
}

/// Coalesces entries (oldest first) into one chain of actions per resident, chains in the
/// order of their first entry.
pub fn coalesce(entries: &[Entry]) -> Vec<Vec<Action>> {
    let mut order: Vec<String> = Vec::new();
    let mut chains: BTreeMap<String, Vec<Action>> = BTreeMap::new();
    for e in entries {
        let key = chain_key(e);
        let chain = chains.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Vec::new()
        });
        push_entry(chain, e);
    }
    order.into_iter().filter_map(|k| chains.remove(&k)).filter(|c| !c.is_empty()).collect()
}

fn new_action(e: &Entry, kind: ActionKind) -> Action {
    Action {
        site_id: e.site_id,
        resident_id: e.resident_id,
        remote_id: e.remote_id.clone(),
        email: e.email.clone(),
        kind,
        entry_ids: vec![e.id],
    }
}

fn push_entry(chain: &mut Vec<Action>, e: &Entry) {
    if let Some(last) = chain.last_mut() {
        if last.remote_id.is_none() {
            last.remote_id = e.remote_id.clone();
        }
    }
    match OutboxOp::parse(&e.op) {
        Some(OutboxOp::Create) => {
            let body = e.payload.get("resident").cloned().unwrap_or(Value::Null);
            chain.push(new_action(e, ActionKind::Create { body }));
        }
        Some(OutboxOp::Update) => {
            let body = e.payload.get("resident").cloned().unwrap_or(Value::Null);
            let changed: BTreeSet<String> = e
                .payload
                .get("changed")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            let base = e.base.as_object().cloned().unwrap_or_default();
            match chain.last_mut() {
                Some(Action { kind: ActionKind::Create { body: b }, entry_ids, .. }) => {
                    *b = body;
                    entry_ids.push(e.id);
                }
                Some(Action { kind: ActionKind::Update { body: b, changed: c, base: old }, entry_ids, .. }) => {
                    *b = body;
                    for f in changed {
                        if !c.contains(&f) {
                            if let Some(v) = base.get(&f) {
                                old.insert(f.clone(), v.clone());
                            }
                            c.insert(f);
                        }
                    }
                    entry_ids.push(e.id);
                }
                _ => chain.push(new_action(e, ActionKind::Update { body, changed, base })),
            }
        }
        _ => {
            let op = e.op.as_str();
            let Some(life) = LifeOp::parse(op) else {
                // An unknown op is sent nowhere; push reports it as rejected.
                chain.push(new_action(e, ActionKind::Unknown(op.to_string())));
                return;
            };
            if life == LifeOp::Purge {
                let ids: Vec<i64> = chain.iter().flat_map(|a| a.entry_ids.iter().copied()).chain([e.id]).collect();
                let never_sent = chain.iter().any(|a| matches!(a.kind, ActionKind::Create { .. }));
                let remote_id = chain.first().and_then(|a| a.remote_id.clone()).or_else(|| e.remote_id.clone());
                chain.clear();
                let kind = if never_sent { ActionKind::Nothing } else { ActionKind::Life(LifeOp::Purge) };
                chain.push(Action { entry_ids: ids, remote_id, ..new_action(e, kind) });
                return;
            }
            if let Some(last) = chain.last_mut() {
                let merge = match (&last.kind, life) {
                    (ActionKind::Life(LifeOp::Suspend | LifeOp::Unsuspend), LifeOp::Suspend | LifeOp::Unsuspend) => {
                        true
                    }
                    (ActionKind::Life(prev), now) => *prev == now && now != LifeOp::PskReset,
                    (ActionKind::Nothing, _) => false,
                    _ => false,
                };
                if merge {
                    last.kind = ActionKind::Life(life);
                    last.entry_ids.push(e.id);
                    return;
                }
            }
            chain.push(new_action(e, ActionKind::Life(life)));
        }
    }
}

/// A unit of sending.
#[derive(Debug, Clone, PartialEq)]
pub enum Batch {
    /// Nothing to send; the entries are done.
    Nothing(Action),
    /// One request.
    Single(Action),
    /// One import job of creates at one site.
    Import { site_id: i64, actions: Vec<Action> },
    /// One bulk-action job of the same action at one site.
    Bulk { site_id: i64, action: BulkAction, actions: Vec<Action> },
}

/// Limits of batching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Creates at one site from which an import job is used.
    pub import_min: usize,
    /// Same lifecycle actions at one site from which a bulk job is used.
    pub bulk_min: usize,
    /// Most items in one job.
    pub max_items: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits { import_min: 3, bulk_min: 3, max_items: 5_000 }
    }
}

/// Groups the next action of every resident into batches: creates per site into import
/// jobs, the same lifecycle action per site into bulk jobs (residents with a remote id
/// only; onboard-now always, as it has no single endpoint), the rest one request each.
pub fn batches(round: Vec<Action>, limits: &BatchLimits) -> Vec<Batch> {
    let mut out = Vec::new();
    let mut creates: BTreeMap<i64, Vec<Action>> = BTreeMap::new();
    let mut lifes: BTreeMap<(i64, LifeOp), Vec<Action>> = BTreeMap::new();
    for a in round {
        match &a.kind {
            ActionKind::Nothing => out.push(Batch::Nothing(a)),
            ActionKind::Create { .. } => creates.entry(a.site_id).or_default().push(a),
            ActionKind::Life(op) if op.bulk().is_some() && a.remote_id.is_some() => {
                lifes.entry((a.site_id, *op)).or_default().push(a)
            }
            _ => out.push(Batch::Single(a)),
        }
    }
    let max = limits.max_items.max(1);
    // Lifecycle jobs before creates: a termination frees its unit, and a resident added
    // here into that unit (a move-out and a move-in on the same day) is refused as "unit
    // occupied" when the create reaches Site Manager first (the many-desks soak found it).
    for ((site_id, op), list) in lifes {
        let action = op.bulk().unwrap_or(BulkAction::Suspend);
        if list.len() >= limits.bulk_min.max(1) || op == LifeOp::OnboardNow {
            for chunk in list.chunks(max) {
                out.push(Batch::Bulk { site_id, action, actions: chunk.to_vec() });
            }
        } else {
            out.extend(list.into_iter().map(Batch::Single));
        }
    }
    for (site_id, list) in creates {
        if list.len() >= limits.import_min.max(1) {
            for chunk in list.chunks(max) {
                out.push(Batch::Import { site_id, actions: chunk.to_vec() });
            }
        } else {
            out.extend(list.into_iter().map(Batch::Single));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    fn entry(id: i64, resident: i64, op: &str, payload: Value, base: Value, remote: Option<&str>) -> Entry {
        Entry {
            id,
            created_at: Utc::now(),
            actor_id: None,
            site_id: 1,
            resident_id: Some(resident),
            remote_id: remote.map(str::to_string),
            email: Some(format!("r{resident}@x.co")),
            op: op.into(),
            payload,
            base,
            idempotency_key: format!("k{id}"),
            state: "pending".into(),
            attempts: 0,
            last_error: None,
            updated_at: Utc::now(),
        }
    }
    fn upd(id: i64, r: i64, name: &str, changed: &[&str], base: Value) -> Entry {
        entry(
            id,
            r,
            "update",
            json!({"resident": {"FirstName": name}, "changed": changed}),
            base,
            Some(&format!("rem{r}")),
        )
    }
    fn life(id: i64, r: i64, op: &str) -> Entry {
        entry(id, r, op, json!({}), json!({}), Some(&format!("rem{r}")))
    }
    fn create(id: i64, r: i64, name: &str) -> Entry {
        entry(id, r, "create", json!({"resident": {"FirstName": name}}), json!({}), None)
    }
    fn shape(chains: &[Vec<Action>]) -> Vec<Vec<(&'static str, Vec<i64>)>> {
        chains.iter().map(|c| c.iter().map(|a| (a.op_name(), a.entry_ids.clone())).collect()).collect()
    }

    #[test]
    fn coalescing_table() {
        type Case = (&'static str, Vec<Entry>, Vec<Vec<(&'static str, Vec<i64>)>>);
        let cases: Vec<Case> = vec![
            (
                "create + updates → one create",
                vec![create(1, 1, "A"), upd(2, 1, "B", &["FirstName"], json!({}))],
                vec![vec![("create", vec![1, 2])]],
            ),
            (
                "several updates → one PUT",
                vec![
                    upd(1, 1, "A", &["FirstName"], json!({"FirstName": "Z"})),
                    upd(2, 1, "B", &["LastName"], json!({})),
                ],
                vec![vec![("update", vec![1, 2])]],
            ),
            (
                "create + purge → nothing",
                vec![create(1, 1, "A"), life(2, 1, "invite"), life(3, 1, "purge")],
                vec![vec![("nothing", vec![1, 2, 3])]],
            ),
            (
                "update + purge → purge",
                vec![upd(1, 1, "A", &["FirstName"], json!({})), life(2, 1, "purge")],
                vec![vec![("purge", vec![1, 2])]],
            ),
            (
                "suspend, unsuspend → last",
                vec![life(1, 1, "suspend"), life(2, 1, "unsuspend"), life(3, 1, "psk_reset"), life(4, 1, "psk_reset")],
                vec![vec![("unsuspend", vec![1, 2]), ("psk_reset", vec![3]), ("psk_reset", vec![4])]],
            ),
            (
                "order kept per resident, residents separate",
                vec![create(1, 1, "A"), life(2, 2, "terminate"), life(3, 1, "suspend"), upd(4, 1, "C", &[], json!({}))],
                vec![
                    vec![("create", vec![1]), ("suspend", vec![3]), ("update", vec![4])],
                    vec![("terminate", vec![2])],
                ],
            ),
            (
                "an unknown op is kept (rejected by push), never dropped",
                vec![life(1, 1, "teleport")],
                vec![vec![("unknown", vec![1])]],
            ),
        ];
        for (name, entries, want) in cases {
            assert_eq!(shape(&coalesce(&entries)), want, "{name}");
        }
    }

    #[test]
    fn coalesced_update_keeps_latest_body_and_first_base() {
        let chains = coalesce(&[
            upd(1, 1, "A", &["FirstName"], json!({"FirstName": "orig"})),
            upd(2, 1, "B", &["FirstName"], json!({"FirstName": "A"})),
        ]);
        let ActionKind::Update { body, changed, base } = &chains[0][0].kind else { panic!("not an update") };
        assert_eq!(body["FirstName"], "B");
        assert_eq!(changed.iter().collect::<Vec<_>>(), vec!["FirstName"]);
        assert_eq!(base["FirstName"], "orig");
        let chains = coalesce(&[create(1, 1, "A"), upd(2, 1, "B", &["FirstName"], json!({}))]);
        assert_eq!(chains[0][0].kind, ActionKind::Create { body: json!({"FirstName": "B"}) });
    }

    #[test]
    fn batching_uses_jobs_for_many() {
        let limits = BatchLimits { import_min: 3, bulk_min: 3, max_items: 2 };
        let round: Vec<Action> = coalesce(&[
            create(1, 1, "A"),
            create(2, 2, "B"),
            create(3, 3, "C"),
            life(4, 4, "suspend"),
            life(5, 5, "suspend"),
            life(6, 6, "suspend"),
            life(7, 7, "terminate"),
            life(8, 8, "onboard_now"),
            life(9, 9, "psk_reset"),
        ])
        .into_iter()
        .map(|mut c| c.remove(0))
        .collect();
        let b = batches(round, &limits);
        let imports: Vec<usize> = b
            .iter()
            .filter_map(|x| if let Batch::Import { actions, .. } = x { Some(actions.len()) } else { None })
            .collect();
        assert_eq!(imports, vec![2, 1], "3 creates chunked by max_items 2");
        let bulks: Vec<(BulkAction, usize)> = b
            .iter()
            .filter_map(
                |x| if let Batch::Bulk { action, actions, .. } = x { Some((*action, actions.len())) } else { None },
            )
            .collect();
        assert!(bulks.contains(&(BulkAction::Suspend, 2)) && bulks.contains(&(BulkAction::Suspend, 1)));
        assert!(bulks.contains(&(BulkAction::OnboardNow, 1)), "onboard-now has no single endpoint");
        let singles: Vec<&str> =
            b.iter().filter_map(|x| if let Batch::Single(a) = x { Some(a.op_name()) } else { None }).collect();
        assert_eq!(singles.len(), 2);
        assert!(singles.contains(&"terminate") && singles.contains(&"psk_reset"));
    }
}
