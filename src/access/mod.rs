//! Who may do what, where: the Site Manager permission matrix (Table-1 of seed 000) as data,
//! the scope of a person in their active team, and [`authorize`], the one choke point every
//! use case calls. Pure: no I/O. Every decision can explain itself.
//!
//! Table-1 is the default policy of a general role model ([`roles`]): [`authorize`] checks an
//! actor under Table-1 alone; [`evaluate`] checks an actor with the [`roles::Grants`] its roles,
//! site access and (for an API token) token limits give. [`grant`] holds the "grant only what
//! you hold" rules.

pub mod denial;
pub mod grant;
pub mod roles;
pub mod session;

pub use denial::{Asked, Denial, Holder, Place};
pub use session::{Session, TokenInfo};

use roles::{feature_needs, Grants, PermSet, Permission};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The four permission levels of Site Manager, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Level {
    StaffUser,
    StaffLocalAdmin,
    TeamUser,
    TeamAdmin,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::StaffUser, Level::StaffLocalAdmin, Level::TeamUser, Level::TeamAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::StaffUser => "staff_user",
            Level::StaffLocalAdmin => "staff_local_admin",
            Level::TeamUser => "team_user",
            Level::TeamAdmin => "team_admin",
        }
    }

    /// Parses `staff_user`, `staff-local-admin`, `Team admin`... (case, `-`, `_` and spaces ignored).
    pub fn parse(text: &str) -> Option<Level> {
        let key: String = text.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
        match key.as_str() {
            "staffuser" | "staff" => Some(Level::StaffUser),
            "stafflocaladmin" | "localadmin" => Some(Level::StaffLocalAdmin),
            "teamuser" | "team" => Some(Level::TeamUser),
            "teamadmin" | "teamadministrator" => Some(Level::TeamAdmin),
            _ => None,
        }
    }

    /// Team users see every site of the team; Staff users only their member sites.
    pub fn is_team_level(self) -> bool {
        matches!(self, Level::TeamUser | Level::TeamAdmin)
    }

    /// The plural used in explanations ("Staff users cannot ...").
    pub fn plural(self) -> &'static str {
        match self {
            Level::StaffUser => "Staff users",
            Level::StaffLocalAdmin => "Staff local-admins",
            Level::TeamUser => "Team users",
            Level::TeamAdmin => "Team administrators",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Level::StaffUser => "Staff user",
            Level::StaffLocalAdmin => "Staff local-admin",
            Level::TeamUser => "Team user",
            Level::TeamAdmin => "Team administrator",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// The ten features of Table-1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Feature {
    ManageResidents,
    ViewIndividualSites,
    ManageStaffUsers,
    ViewAllTeamSites,
    ViewSiteSettings,
    EditSiteSettings,
    ViewTeamDetails,
    ViewTeamMembers,
    EditTeamMembers,
    EditTeamSettings,
}

impl Feature {
    pub const ALL: [Feature; 10] = [
        Feature::ManageResidents,
        Feature::ViewIndividualSites,
        Feature::ManageStaffUsers,
        Feature::ViewAllTeamSites,
        Feature::ViewSiteSettings,
        Feature::EditSiteSettings,
        Feature::ViewTeamDetails,
        Feature::ViewTeamMembers,
        Feature::EditTeamMembers,
        Feature::EditTeamSettings,
    ];

    /// The verb phrase used in explanations.
    pub fn phrase(self) -> &'static str {
        match self {
            Feature::ManageResidents => "manage residents",
            Feature::ViewIndividualSites => "view individual sites",
            Feature::ManageStaffUsers => "manage staff users",
            Feature::ViewAllTeamSites => "view all team sites",
            Feature::ViewSiteSettings => "view site settings",
            Feature::EditSiteSettings => "edit site settings",
            Feature::ViewTeamDetails => "view team details",
            Feature::ViewTeamMembers => "view team members",
            Feature::EditTeamMembers => "edit team members",
            Feature::EditTeamSettings => "edit team settings",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Feature::ManageResidents => "manage_residents",
            Feature::ViewIndividualSites => "view_individual_sites",
            Feature::ManageStaffUsers => "manage_staff_users",
            Feature::ViewAllTeamSites => "view_all_team_sites",
            Feature::ViewSiteSettings => "view_site_settings",
            Feature::EditSiteSettings => "edit_site_settings",
            Feature::ViewTeamDetails => "view_team_details",
            Feature::ViewTeamMembers => "view_team_members",
            Feature::EditTeamMembers => "edit_team_members",
            Feature::EditTeamSettings => "edit_team_settings",
        }
    }

    pub fn parse(text: &str) -> Option<Feature> {
        let key = text.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Feature::ALL.into_iter().find(|f| f.as_str() == key)
    }
}

/// Table-1: rows are features (in [`Feature::ALL`] order), columns levels (in [`Level::ALL`] order).
pub const TABLE_1: [[bool; 4]; 10] = [
    // Staff, Staff local-admin, Team, Team admin
    [true, true, true, true],    // Manage residents
    [true, true, true, true],    // View individual sites
    [false, true, true, true],   // Manage staff users
    [false, false, true, true],  // View all team sites
    [true, true, true, true],    // View site settings
    [false, false, false, true], // Edit site settings
    [true, true, true, true],    // View team details
    [false, false, false, true], // View team members
    [false, false, false, true], // Edit team members
    [false, false, false, true], // Edit team settings
];

/// Whether the default policy grants `feature` to `level`.
pub fn level_allows(level: Level, feature: Feature) -> bool {
    TABLE_1[feature as usize][level as usize]
}

/// A team as authorisation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamRef {
    pub id: i64,
    pub name: String,
}

/// A site as authorisation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteRef {
    pub id: i64,
    pub team_id: i64,
    pub name: String,
}

/// The person acting, in their one active team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_id: i64,
    pub email: String,
    pub is_owner: bool,
    /// The active team and the person's level in it; `None` when they belong to no team.
    pub team: Option<(TeamRef, Level)>,
    /// Sites of the active team the person is a member of (what Staff-level people see).
    pub member_sites: BTreeSet<i64>,
}

impl Actor {
    pub fn level(&self) -> Option<Level> {
        self.team.as_ref().map(|(_, l)| *l)
    }
    pub fn team_id(&self) -> Option<i64> {
        self.team.as_ref().map(|(t, _)| t.id)
    }

    /// What the person may see in their active team.
    pub fn scope(&self) -> Scope {
        match &self.team {
            None => Scope::Nothing,
            Some((team, level)) if level.is_team_level() => Scope::Team(team.id),
            Some((team, _)) => Scope::Sites { team_id: team.id, sites: self.member_sites.iter().copied().collect() },
        }
    }
}

/// The set of sites a read may touch, for SQL filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Nothing,
    /// Every site of this team.
    Team(i64),
    /// These sites of this team.
    Sites {
        team_id: i64,
        sites: Vec<i64>,
    },
}

/// What an action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    Team(&'a TeamRef),
    Site(&'a SiteRef),
}

/// The outcome of [`authorize`], with a reason a person understands when denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow { rule: String },
    Deny { reason: Denial },
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
    /// The rule that allowed, or the reason that denied (in English).
    pub fn explanation(&self) -> String {
        match self {
            Decision::Allow { rule } => rule.clone(),
            Decision::Deny { reason } => reason.to_string(),
        }
    }

    /// The refusal, when denied.
    pub fn denial(&self) -> Option<&Denial> {
        match self {
            Decision::Allow { .. } => None,
            Decision::Deny { reason } => Some(reason),
        }
    }
}

/// The one authorisation check under the default policy: active team, then Table-1, then site
/// scope. The same as [`evaluate`] with the actor's Table-1 grants.
pub fn authorize(actor: &Actor, feature: Feature, target: Target<'_>) -> Decision {
    let Some((_, level)) = &actor.team else {
        return Decision::Deny { reason: Denial::NoTeam { email: actor.email.clone() } };
    };
    evaluate(actor, &Grants::for_level(*level, &actor.member_sites), Need::Feature(feature), target)
}

/// What a check asks for: a Table-1 feature, or one permission of the role model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Feature(Feature),
    Permission(Permission),
}

impl Need {
    fn needs(self) -> (PermSet, bool) {
        match self {
            Need::Feature(f) => feature_needs(f),
            Need::Permission(p) => ([p].into_iter().collect(), false),
        }
    }
    fn asked(self) -> Asked {
        match self {
            Need::Feature(f) => Asked::Feature(f),
            Need::Permission(p) => Asked::Permission(p),
        }
    }
    fn phrase(self) -> String {
        self.asked().phrase().to_string()
    }
}

/// The general check: active team, then the permissions the grants hold, then site access.
/// Grants equal to the Table-1 defaults explain themselves in Table-1's words.
pub fn evaluate(actor: &Actor, grants: &Grants, need: Need, target: Target<'_>) -> Decision {
    let deny = |reason: Denial| Decision::Deny { reason };
    let Some((team, _)) = &actor.team else {
        return deny(Denial::NoTeam { email: actor.email.clone() });
    };
    let (target_team, place) = match target {
        Target::Team(t) => (t.id, Place::Team { name: t.name.clone() }),
        Target::Site(s) => (s.team_id, Place::Site { name: s.name.clone() }),
    };
    if target_team != team.id {
        return deny(Denial::OtherTeam { place, team: team.name.clone() });
    }
    // Grants equal to a level's defaults explain themselves in Table-1's words, whichever
    // way the use case states its need.
    let table_1 = grants.is_table_1();
    let (perms, needs_all_sites) = need.needs();
    let missing = perms.difference(grants.permissions);
    if !missing.is_empty() || (needs_all_sites && !grants.all_sites()) {
        if table_1 {
            return deny(Denial::LevelCannot { level: grants.base, asked: need.asked(), place });
        }
        return deny(Denial::Lacks {
            holder: grants.holder_of(),
            missing: missing.iter().collect(),
            asked: need.asked(),
            place,
        });
    }
    if let Target::Site(site) = target {
        if !grants.sites.covers(site.id) {
            return deny(Denial::NotYourSite { site: site.name.clone() });
        }
    }
    let reach = match target {
        Target::Site(_) if grants.all_sites() => "every site of the team",
        Target::Site(_) => "a member site",
        Target::Team(_) => "the active team",
    };
    if table_1 {
        return Decision::Allow { rule: format!("Table-1: {} may {} ({reach})", grants.base.plural(), need.phrase()) };
    }
    let from: Vec<String> =
        perms.iter().map(|p| format!("{p} from {}", grants.sources_of(p).join(" and "))).collect::<Vec<_>>();
    let via = grants.token.as_ref().map(|t| format!(", within token {t}")).unwrap_or_default();
    Decision::Allow { rule: format!("{}: {} ({reach}{via})", need.phrase(), from.join("; ")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_1_reads_as_the_seed() {
        use Feature::*;
        use Level::*;
        assert!(level_allows(StaffUser, ManageResidents));
        assert!(!level_allows(StaffUser, ManageStaffUsers));
        assert!(level_allows(StaffLocalAdmin, ManageStaffUsers));
        assert!(!level_allows(StaffLocalAdmin, ViewAllTeamSites));
        assert!(level_allows(TeamUser, ViewAllTeamSites));
        assert!(!level_allows(TeamUser, EditSiteSettings));
        assert!(!level_allows(TeamUser, ViewTeamMembers));
        for f in Feature::ALL {
            assert!(level_allows(TeamAdmin, f), "team admins hold everything");
        }
        // Each level holds at least what the one below holds (the levels are hierarchical).
        for f in Feature::ALL {
            for w in Level::ALL.windows(2) {
                assert!(!level_allows(w[0], f) || level_allows(w[1], f), "{f:?}");
            }
        }
    }

    #[test]
    fn parse_names() {
        assert_eq!(Level::parse("Staff local-admin"), Some(Level::StaffLocalAdmin));
        assert_eq!(Level::parse("team_admin"), Some(Level::TeamAdmin));
        assert_eq!(Level::parse("boss"), None);
        assert_eq!(Feature::parse("edit-site-settings"), Some(Feature::EditSiteSettings));
    }

    /// Every level × every feature × (own site, other site of the team, site of another team).
    #[test]
    fn exhaustive_levels_features_and_places() {
        let team = TeamRef { id: 1, name: "North".into() };
        let own = SiteRef { id: 10, team_id: 1, name: "Maple Court".into() };
        let other = SiteRef { id: 11, team_id: 1, name: "Oak Row".into() };
        let foreign = SiteRef { id: 20, team_id: 2, name: "Elm Park".into() };
        for level in Level::ALL {
            let actor = Actor {
                staff_id: 1,
                email: "x@y.co".into(),
                is_owner: false,
                team: Some((team.clone(), level)),
                member_sites: [10].into_iter().collect(),
            };
            for feature in Feature::ALL {
                let granted = level_allows(level, feature);
                assert_eq!(authorize(&actor, feature, Target::Site(&own)).is_allowed(), granted);
                assert_eq!(
                    authorize(&actor, feature, Target::Site(&other)).is_allowed(),
                    granted && level.is_team_level(),
                    "{level:?} {feature:?} other site"
                );
                let d = authorize(&actor, feature, Target::Site(&foreign));
                assert!(!d.is_allowed());
                assert!(d.explanation().contains("not in your active team"));
                assert_eq!(authorize(&actor, feature, Target::Team(&team)).is_allowed(), granted);
            }
        }
    }

    #[test]
    fn reasons_read_well() {
        let team = TeamRef { id: 1, name: "North".into() };
        let site = SiteRef { id: 11, team_id: 1, name: "Maple Court".into() };
        let staff = Actor {
            staff_id: 1,
            email: "s@x.co".into(),
            is_owner: false,
            team: Some((team, Level::StaffUser)),
            member_sites: BTreeSet::new(),
        };
        let d = authorize(&staff, Feature::ManageStaffUsers, Target::Site(&site));
        assert_eq!(d.explanation(), "Staff users cannot manage staff users (at site Maple Court)");
        let d = authorize(&staff, Feature::ManageResidents, Target::Site(&site));
        assert_eq!(d.explanation(), "site Maple Court is not in your sites");
        // A permission need names the permission once.
        let grants = roles::Grants::for_level(Level::StaffUser, &BTreeSet::new());
        let team = TeamRef { id: 1, name: "North".into() };
        let d = evaluate(&staff, &grants, Need::Permission(roles::Permission::StaffView), Target::Team(&team));
        assert_eq!(d.explanation(), "Staff users cannot manage staff users (at team North)");
        let auditor = roles::builtin_role("auditor").unwrap();
        let grants = roles::Grants::resolve(Level::StaffUser, &[auditor], roles::SiteAccess::Listed(BTreeSet::new()));
        let d = evaluate(&staff, &grants, Need::Permission(roles::Permission::StaffView), Target::Team(&team));
        assert_eq!(d.explanation(), "Staff user + Auditor lacks the permission staff.view (at team North)");
        let nobody = Actor { team: None, ..staff };
        assert!(!authorize(&nobody, Feature::ViewTeamDetails, Target::Site(&site)).is_allowed());
        assert_eq!(nobody.scope(), Scope::Nothing);
    }
}
