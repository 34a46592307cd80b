//! Why access is refused, as a stable code with typed parameters (`denial` and its members):
//! the desktop says it in the person's language from its catalog, the CLI and the logs in
//! the English of [`fmt::Display`] — so the decision is made once and said twice, never
//! parsed back out of a sentence. Pure data: [`super::evaluate`] and [`super::grant`] build it.

use super::roles::Permission;
use super::{Feature, Level};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The place an action is aimed at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    Team { name: String },
    Site { name: String },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Team { name } => write!(f, "team {name}"),
            Place::Site { name } => write!(f, "site {name}"),
        }
    }
}

/// What was asked for: a Table-1 feature or one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    Feature(Feature),
    Permission(Permission),
}

impl Asked {
    /// The verb phrase of explanations ("manage staff users").
    pub fn phrase(self) -> &'static str {
        match self {
            Asked::Feature(f) => f.phrase(),
            Asked::Permission(p) => p.phrase(),
        }
    }
}

/// An add-on role by its stable key and its name (the catalog names built-in ones; a team's
/// own roles keep the name the team gave).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RoleName {
    pub key: String,
    pub name: String,
}

/// Who holds the grants refused: a base role, add-on roles, and the API token, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Holder {
    pub level: Level,
    pub addons: Vec<RoleName>,
    #[cfg_attr(feature = "ts", ts(optional))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut roles = vec![self.level.title().to_string()];
        roles.extend(self.addons.iter().map(|a| a.name.clone()));
        let roles = roles.join(" + ");
        match &self.token {
            Some(t) => write!(f, "token {t} (of a {roles})"),
            None => f.write_str(&roles),
        }
    }
}

/// One refusal of access, by kind (`denial`) with its parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "denial", rename_all = "snake_case")]
pub enum Denial {
    /// The person belongs to no team.
    NoTeam { email: String },
    /// The target belongs to another team than the active one.
    OtherTeam { place: Place, team: String },
    /// Table-1: this level cannot do this.
    LevelCannot { level: Level, asked: Asked, place: Place },
    /// The holder lacks permissions (`missing`), or access to every site (`missing` empty).
    Lacks { holder: Holder, missing: Vec<Permission>, asked: Asked, place: Place },
    /// The site is not among the person's sites.
    NotYourSite { site: String },
    /// The session sees no site of the team at all.
    NoSite,
    /// An API token asked for something only a person may do (`use_case`, e.g. `staff.add`).
    TokenCannot { use_case: String, summary: String },
    /// Only the owner of the team may do this (`use_case`: restoring a backup, encrypting or
    /// rekeying the database, disabling an account everywhere, transferring ownership,
    /// resetting the owner's password).
    OwnerOnly { use_case: String },
    /// The owner is changed only by the owner, or by transferring ownership.
    OwnerByOwner,
    /// The owner cannot be demoted, disabled or removed before ownership moves.
    OwnerStays,
    /// The owner cannot disable their own account.
    OwnerDisablesSelf,
    /// Nobody raises their own rights.
    OwnRights,
    /// A person cannot remove themselves.
    RemoveSelf,
    /// The member's base role is above the grantor's.
    Above { grantor: Level, member: Level },
    /// The member holds permissions the grantor does not.
    HoldsMore { permissions: Vec<Permission> },
    /// The member reaches sites the grantor does not.
    SitesBeyondMember,
    /// A role that only the system gives.
    NotAssignable { role: RoleName },
    /// A base role above the grantor's own.
    GrantAbove { grantor: Level, level: Level },
    /// Permissions the grantor does not hold.
    GrantBeyond { permissions: Vec<Permission> },
    /// Access to every site, which the grantor does not have.
    GrantAllSites,
    /// Sites (by id) the grantor does not have.
    GrantSites { sites: Vec<i64> },
    /// A token holding more than its creator.
    TokenBeyond { permissions: Vec<Permission> },
    /// A token reaching sites its creator cannot.
    TokenSites,
    /// A role definition giving permissions its author does not hold.
    RoleBeyond { permissions: Vec<Permission> },
    /// Looking into the access of someone who holds more.
    ExplainAbove { email: String },
}

fn ids(perms: &[Permission]) -> String {
    if perms.is_empty() {
        return "nothing".into();
    }
    perms.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

/// The English of the CLI and the logs (and of the audit log's `reason`), unchanged from the
/// sentences the core used before denials had codes.
impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denial::NoTeam { email } => write!(f, "{email} is not a member of any team"),
            Denial::OtherTeam { place, team } => write!(f, "{place} is not in your active team {team}"),
            Denial::LevelCannot { level, asked, place } => {
                write!(f, "{} cannot {} (at {place})", level.plural(), asked.phrase())
            }
            Denial::Lacks { holder, missing, asked, place } => {
                let lack =
                    if missing.is_empty() { "access to every site of the team".to_string() } else { ids(missing) };
                match asked {
                    Asked::Permission(_) if !missing.is_empty() => {
                        write!(f, "{holder} lacks the permission {lack} (at {place})")
                    }
                    Asked::Permission(p) => write!(f, "{holder} lacks {lack}, needed to use {p} (at {place})"),
                    Asked::Feature(_) => write!(f, "{holder} lacks {lack}, needed to {} (at {place})", asked.phrase()),
                }
            }
            Denial::NotYourSite { site } => write!(f, "site {site} is not in your sites"),
            Denial::NoSite => f.write_str("you see no site in this team"),
            Denial::TokenCannot { summary, .. } => write!(f, "an API token cannot {}", lower_first(summary)),
            Denial::OwnerOnly { use_case } => f.write_str(match use_case.as_str() {
                "backup.restore" => "only the owner can restore a backup (it replaces every team's data)",
                "db.encrypt" => "only the owner can encrypt the database (it rewrites every team's data)",
                "db.rekey" => "only the owner can change the database's key",
                "account.disable" => {
                    "only the owner can disable an account in every team; disable the membership of this team instead"
                }
                "staff.reset_password" => "only the owner can reset the owner's password",
                "owner.transfer" => "only the owner can transfer ownership",
                _ => "only the owner can do this",
            }),
            Denial::OwnerByOwner => {
                f.write_str("the owner can only be changed by the owner, or by transferring ownership")
            }
            Denial::OwnerStays => f.write_str("the owner cannot be demoted or removed; transfer ownership first"),
            Denial::OwnerDisablesSelf => f.write_str("the owner cannot disable their own account"),
            Denial::OwnRights => f.write_str("nobody can raise their own rights"),
            Denial::RemoveSelf => f.write_str("you cannot remove yourself"),
            Denial::Above { grantor, member } => {
                write!(f, "{} cannot change a {}, who is above them", grantor.plural(), member.title())
            }
            Denial::HoldsMore { permissions } => {
                write!(f, "you cannot change someone who holds {}, which you do not", ids(permissions))
            }
            Denial::SitesBeyondMember => f.write_str("you cannot change someone with access to sites you do not have"),
            Denial::NotAssignable { role } => write!(f, "the role {} is not assignable by hand", role.name),
            Denial::GrantAbove { grantor, level } => {
                write!(f, "{} cannot grant the {} role, which is above their own", grantor.plural(), level.title())
            }
            Denial::GrantBeyond { permissions } => {
                write!(f, "you cannot grant {}, which you do not hold", ids(permissions))
            }
            Denial::GrantAllSites => {
                f.write_str("you cannot grant access to all sites of the team: you do not have it")
            }
            Denial::GrantSites { sites } => {
                let list: Vec<String> = sites.iter().map(|id| format!("#{id}")).collect();
                write!(f, "you cannot grant access to site(s) {}, which you do not have", list.join(", "))
            }
            Denial::TokenBeyond { permissions } => {
                write!(f, "a token cannot hold {}, which its creator does not hold", ids(permissions))
            }
            Denial::TokenSites => f.write_str("a token cannot reach sites its creator cannot reach"),
            Denial::RoleBeyond { permissions } => {
                write!(f, "you cannot define a role giving {}, which you do not hold", ids(permissions))
            }
            Denial::ExplainAbove { email } => {
                write!(f, "you cannot look into the access of {email}, who holds more than you")
            }
        }
    }
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_denial_crosses_as_a_code_with_typed_parameters() {
        let d = Denial::Lacks {
            holder: Holder { level: Level::StaffUser, addons: vec![], token: None },
            missing: vec![Permission::StaffView],
            asked: Asked::Permission(Permission::StaffView),
            place: Place::Team { name: "North".into() },
        };
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"denial": "lacks", "holder": {"level": "staff_user", "addons": []}, "missing": ["staff.view"],
                   "asked": {"permission": "staff.view"}, "place": {"kind": "team", "name": "North"}})
        );
        assert_eq!(d.to_string(), "Staff user lacks the permission staff.view (at team North)");
        let back: Denial = serde_json::from_value(serde_json::to_value(&d).unwrap()).unwrap();
        assert_eq!(back, d);
        assert_eq!(serde_json::to_value(Denial::NoSite).unwrap(), json!({"denial": "no_site"}));
    }
}
