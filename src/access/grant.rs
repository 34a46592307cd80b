//! "Grant only what you hold" (ForSURE), with the SALTO KS owner flag and Site Manager's
//! hierarchy: nobody grants a role, permission or site they do not hold themselves, nobody
//! edits someone above them (a higher base role, permissions or sites beyond their own),
//! nobody raises their own rights, roles that are not assignable are never given by hand, and
//! the owner is changed only by transferring ownership. Pure: the app layer checks the
//! `staff.*` permission for the action itself (audited) and then asks [`check`].

use super::denial::{Denial, RoleName};
use super::roles::{Grants, Role, RoleKind, SiteAccess};
use super::Level;
use serde::{Deserialize, Serialize};

/// A member's roles and site access in one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub base: Level,
    pub addons: Vec<Role>,
    pub sites: SiteAccess,
}

impl Assignment {
    pub fn grants(&self) -> Grants {
        Grants::resolve(self.base, &self.addons, self.sites.clone())
    }
}

/// The person granting.
#[derive(Debug, Clone, Copy)]
pub struct Grantor<'a> {
    pub staff_id: i64,
    pub is_owner: bool,
    pub grants: &'a Grants,
}

/// The person whose access changes, as they are now (`None` when being added).
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub staff_id: i64,
    pub is_owner: bool,
    pub assignment: &'a Assignment,
}

/// Why a grant is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// An escalation or a rule of authority: denied and audited.
    Denied(Denial),
    /// A malformed request (no site listed, an add-on given as a base role).
    Invalid { field: &'static str, message: String },
}

impl Refusal {
    /// The refusal in English (the CLI's and the audit log's words).
    pub fn message(&self) -> String {
        match self {
            Refusal::Denied(d) => d.to_string(),
            Refusal::Invalid { message, .. } => message.clone(),
        }
    }
}

fn denied<T>(denial: Denial) -> Result<T, Refusal> {
    Err(Refusal::Denied(denial))
}

/// Checks that `grantor` may change `current` (or add someone, when `None`) to `after` (or
/// remove them, when `None`).
pub fn check(grantor: Grantor<'_>, current: Option<Current<'_>>, after: Option<&Assignment>) -> Result<(), Refusal> {
    let mine = grantor.grants;
    if let Some(cur) = current {
        if cur.is_owner {
            if cur.staff_id != grantor.staff_id {
                return denied(Denial::OwnerByOwner);
            }
            match after {
                Some(a) if a.base == Level::TeamAdmin => {}
                _ => return denied(Denial::OwnerStays),
            }
        }
        let before = cur.assignment.grants();
        if cur.staff_id == grantor.staff_id {
            if let Some(a) = after {
                let next = a.grants();
                if a.base > cur.assignment.base
                    || !next.permissions.is_subset(before.permissions)
                    || !next.sites.is_within(&before.sites)
                {
                    return denied(Denial::OwnRights);
                }
            }
        } else {
            if cur.assignment.base > mine.base {
                return denied(Denial::Above { grantor: mine.base, member: cur.assignment.base });
            }
            let beyond = before.permissions.difference(mine.permissions);
            if !beyond.is_empty() {
                return denied(Denial::HoldsMore { permissions: beyond.iter().collect() });
            }
            if !before.sites.is_within(&mine.sites) {
                return denied(Denial::SitesBeyondMember);
            }
        }
    }
    let Some(a) = after else { return Ok(()) };
    if let Some(r) = a.addons.iter().find(|r| r.kind != RoleKind::AddOn) {
        return Err(Refusal::Invalid {
            field: "roles",
            message: format!("{} is a hierarchical role; give it as the base role", r.name),
        });
    }
    if let SiteAccess::Listed(s) = &a.sites {
        if s.is_empty() && !a.base.is_team_level() {
            return Err(Refusal::Invalid {
                field: "sites",
                message: "list at least one site, or give access to all sites of the team".into(),
            });
        }
    }
    let already: Vec<&str> =
        current.map(|c| c.assignment.addons.iter().map(|r| r.key.as_str()).collect()).unwrap_or_default();
    if let Some(r) = a.addons.iter().find(|r| !r.assignable && !already.contains(&r.key.as_str())) {
        return denied(Denial::NotAssignable { role: RoleName { key: r.key.clone(), name: r.name.clone() } });
    }
    if a.base > mine.base {
        return denied(Denial::GrantAbove { grantor: mine.base, level: a.base });
    }
    let next = a.grants();
    let beyond = next.permissions.difference(mine.permissions);
    if !beyond.is_empty() {
        return denied(Denial::GrantBeyond { permissions: beyond.iter().collect() });
    }
    if !next.sites.is_within(&mine.sites) {
        return denied(match &next.sites {
            SiteAccess::AllSites => Denial::GrantAllSites,
            SiteAccess::Listed(s) => {
                Denial::GrantSites { sites: s.iter().copied().filter(|id| !mine.sites.covers(*id)).collect() }
            }
        });
    }
    Ok(())
}

/// Checks a new API token's limits against its creator's grants: a token is always a subset.
pub fn check_token(creator: &Grants, permissions: super::roles::PermSet, sites: &SiteAccess) -> Result<(), Refusal> {
    let beyond = permissions.difference(creator.permissions);
    if !beyond.is_empty() {
        return denied(Denial::TokenBeyond { permissions: beyond.iter().collect() });
    }
    if !sites.is_within(&creator.sites) {
        return denied(Denial::TokenSites);
    }
    if permissions.is_empty() {
        return Err(Refusal::Invalid { field: "permissions", message: "a token needs at least one permission".into() });
    }
    Ok(())
}

/// Checks an add-on role definition: its author must hold every permission it gives.
pub fn check_role_definition(author: &Grants, role: &Role) -> Result<(), Refusal> {
    let beyond = role.permissions.difference(author.permissions);
    if !beyond.is_empty() {
        return denied(Denial::RoleBeyond { permissions: beyond.iter().collect() });
    }
    if role.permissions.is_empty() && role.assignable {
        return Err(Refusal::Invalid { field: "permissions", message: "an assignable role needs permissions".into() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::roles::{builtin_role, PermSet, Permission};
    use super::*;
    use proptest::prelude::*;

    fn listed(ids: &[i64]) -> SiteAccess {
        SiteAccess::Listed(ids.iter().copied().collect())
    }

    fn a(base: Level, sites: SiteAccess) -> Assignment {
        Assignment { base, addons: vec![], sites }
    }

    #[test]
    fn named_escalations_are_refused() {
        let la = a(Level::StaffLocalAdmin, listed(&[1]));
        let la_g = la.grants();
        let me = Grantor { staff_id: 2, is_owner: false, grants: &la_g };
        // A local-admin creating a Team administrator.
        let r = check(me, None, Some(&a(Level::TeamAdmin, SiteAccess::AllSites))).unwrap_err();
        assert!(r.message().contains("above their own"), "{r:?}");
        // ... or a staff user at a site that is not theirs.
        let r = check(me, None, Some(&a(Level::StaffUser, listed(&[1, 9])))).unwrap_err();
        assert!(r.message().contains("#9"), "{r:?}");
        // ... or with all sites.
        assert!(check(me, None, Some(&a(Level::StaffUser, SiteAccess::AllSites))).is_err());
        assert!(check(me, None, Some(&a(Level::StaffUser, listed(&[1])))).is_ok());
        // Self-promotion.
        let cur = Current { staff_id: 2, is_owner: false, assignment: &la };
        let r = check(me, Some(cur), Some(&a(Level::TeamUser, SiteAccess::AllSites))).unwrap_err();
        assert_eq!(r.message(), "nobody can raise their own rights");
        // Editing the owner.
        let owner = a(Level::TeamAdmin, SiteAccess::AllSites);
        let admin_g = owner.grants();
        let other_admin = Grantor { staff_id: 3, is_owner: false, grants: &admin_g };
        let cur = Current { staff_id: 1, is_owner: true, assignment: &owner };
        assert!(check(other_admin, Some(cur), Some(&a(Level::TeamUser, SiteAccess::AllSites))).is_err());
        assert!(check(other_admin, Some(cur), None).is_err());
        let self_owner = Grantor { staff_id: 1, is_owner: true, grants: &admin_g };
        assert!(check(self_owner, Some(cur), Some(&a(Level::TeamUser, SiteAccess::AllSites))).is_err());
        // Non-assignable roles.
        let mut synced = a(Level::StaffUser, listed(&[1]));
        synced.addons.push(builtin_role("remote_synced").unwrap());
        assert!(check(other_admin, None, Some(&synced)).unwrap_err().message().contains("not assignable"));
        // An empty site list is malformed, not an escalation.
        assert!(matches!(
            check(other_admin, None, Some(&a(Level::StaffUser, listed(&[])))),
            Err(Refusal::Invalid { .. })
        ));
    }

    #[test]
    fn tokens_are_subsets() {
        let g = a(Level::StaffUser, listed(&[1, 2])).grants();
        let view: PermSet = [Permission::ResidentsView].into_iter().collect();
        assert!(check_token(&g, view, &listed(&[1])).is_ok());
        assert!(check_token(&g, view, &SiteAccess::AllSites).is_err());
        let audit: PermSet = [Permission::AuditExport].into_iter().collect();
        assert!(check_token(&g, audit, &listed(&[1])).unwrap_err().message().contains("audit.export"));
    }

    fn arb_perms() -> impl Strategy<Value = PermSet> {
        any::<u32>().prop_map(PermSet::from_bits)
    }
    fn arb_level() -> impl Strategy<Value = Level> {
        (0usize..4).prop_map(|i| Level::ALL[i])
    }
    fn arb_sites() -> impl Strategy<Value = SiteAccess> {
        prop_oneof![
            1 => Just(SiteAccess::AllSites),
            3 => proptest::collection::btree_set(0i64..6, 0..4).prop_map(SiteAccess::Listed),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Random add-on roles (the role graph: 4 inheriting levels + random add-ons), random
        /// people, and a random sequence of grant attempts between them: every accepted grant
        /// leaves the grantee within what the grantor held, nobody's rights grow by their own
        /// hand, and nobody ends up beyond the owner.
        #[test]
        fn no_sequence_of_grants_escalates(
            role_perms in proptest::collection::vec((arb_perms(), any::<bool>()), 1..6),
            steps in proptest::collection::vec(
                (0usize..8, 0usize..9, arb_level(), proptest::collection::vec(0usize..6, 0..3), arb_sites()),
                1..40,
            ),
        ) {
            let roles: Vec<Role> = role_perms.iter().enumerate().map(|(i, (p, assignable))| Role {
                key: format!("r{i}"), name: format!("R{i}"), kind: RoleKind::AddOn, permissions: *p,
                assignable: *assignable, builtin: false, level: None, description: String::new(),
            }).collect();
            // Person 0 is the owner; the others start as staff users at site 0.
            let mut people: Vec<(Assignment, bool)> = vec![(a(Level::TeamAdmin, SiteAccess::AllSites), true)];
            for _ in 1..4 {
                people.push((a(Level::StaffUser, listed(&[0])), false));
            }
            for (who, whom, base, addon_ix, sites) in steps {
                let who = who % people.len();
                let addons: Vec<Role> = addon_ix.iter().filter_map(|i| roles.get(*i).cloned()).collect();
                let proposal = Assignment { base, addons, sites };
                let grantor_g = people[who].0.grants();
                let grantor = Grantor { staff_id: who as i64, is_owner: people[who].1, grants: &grantor_g };
                let adding = whom >= people.len();
                let result = if adding {
                    check(grantor, None, Some(&proposal))
                } else {
                    let cur = Current { staff_id: whom as i64, is_owner: people[whom].1, assignment: &people[whom].0 };
                    check(grantor, Some(cur), Some(&proposal))
                };
                if result.is_ok() {
                    let next = proposal.grants();
                    prop_assert!(next.permissions.is_subset(grantor_g.permissions));
                    prop_assert!(next.sites.is_within(&grantor_g.sites));
                    prop_assert!(next.base <= grantor_g.base);
                    if !adding && whom == who {
                        let before = people[whom].0.grants();
                        prop_assert!(next.permissions.is_subset(before.permissions));
                        prop_assert!(next.sites.is_within(&before.sites));
                    }
                    if adding {
                        people.push((proposal, false));
                    } else {
                        people[whom].0 = proposal;
                    }
                }
                let owner = people[0].0.grants();
                prop_assert_eq!(owner.base, Level::TeamAdmin, "the owner is never demoted");
                for (p, _) in &people {
                    prop_assert!(p.grants().permissions.is_subset(owner.permissions));
                }
            }
        }
    }
}
