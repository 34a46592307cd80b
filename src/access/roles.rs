//! The general role model behind Table-1, drawn from the four source systems:
//!
//! - **Permissions grouped in categories** (ForSURE): residents, staff, sites, team, sync, audit.
//! - **Hierarchical built-in roles** (SALTO KS): the four Table-1 levels, each inheriting every
//!   permission of the one below; a person holds exactly one of them (their *base role*).
//! - **Add-on roles** (SALTO KS): non-hierarchical, only on top of a base role; built in or
//!   defined by Team administrators. Some roles are **not assignable** by hand (given by the
//!   system only).
//! - **Site access** (Building Engines): every site of the team automatically (sites added
//!   later included) or an explicit list of at least one site. Team-level base roles always
//!   reach every site (Table-1 "view all team sites").
//! - **Job functions** (Building Engines): templates giving a new staff member its initial roles.
//!
//! [`Grants`] is what a person (or an API token) effectively holds in their active team; it is
//! what [`super::evaluate`] checks. Pure: no I/O.

use super::{Feature, Level};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The categories permissions are grouped in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Residents,
    Staff,
    Sites,
    Team,
    Sync,
    Audit,
}

impl Category {
    pub const ALL: [Category; 6] =
        [Category::Residents, Category::Staff, Category::Sites, Category::Team, Category::Sync, Category::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Residents => "residents",
            Category::Staff => "staff",
            Category::Sites => "sites",
            Category::Team => "team",
            Category::Sync => "sync",
            Category::Audit => "audit",
        }
    }
}

/// One permission (`category.verb`); on the wire and in TypeScript, its id (`residents.view`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Permission {
    #[cfg_attr(feature = "ts", ts(rename = "residents.view"))]
    ResidentsView,
    #[cfg_attr(feature = "ts", ts(rename = "residents.edit"))]
    ResidentsEdit,
    #[cfg_attr(feature = "ts", ts(rename = "residents.lifecycle"))]
    ResidentsLifecycle,
    #[cfg_attr(feature = "ts", ts(rename = "residents.purge"))]
    ResidentsPurge,
    #[cfg_attr(feature = "ts", ts(rename = "residents.bulk"))]
    ResidentsBulk,
    #[cfg_attr(feature = "ts", ts(rename = "residents.import"))]
    ResidentsImport,
    #[cfg_attr(feature = "ts", ts(rename = "residents.export"))]
    ResidentsExport,
    #[cfg_attr(feature = "ts", ts(rename = "staff.view"))]
    StaffView,
    #[cfg_attr(feature = "ts", ts(rename = "staff.add"))]
    StaffAdd,
    #[cfg_attr(feature = "ts", ts(rename = "staff.edit"))]
    StaffEdit,
    #[cfg_attr(feature = "ts", ts(rename = "staff.delete"))]
    StaffDelete,
    #[cfg_attr(feature = "ts", ts(rename = "sites.view"))]
    SitesView,
    #[cfg_attr(feature = "ts", ts(rename = "sites.settings"))]
    SitesSettings,
    #[cfg_attr(feature = "ts", ts(rename = "team.view"))]
    TeamView,
    #[cfg_attr(feature = "ts", ts(rename = "team.members"))]
    TeamMembers,
    #[cfg_attr(feature = "ts", ts(rename = "team.settings"))]
    TeamSettings,
    #[cfg_attr(feature = "ts", ts(rename = "sync.operate"))]
    SyncOperate,
    #[cfg_attr(feature = "ts", ts(rename = "sync.configure"))]
    SyncConfigure,
    #[cfg_attr(feature = "ts", ts(rename = "audit.view"))]
    AuditView,
    #[cfg_attr(feature = "ts", ts(rename = "audit.export"))]
    AuditExport,
}

impl Permission {
    pub const ALL: [Permission; 20] = [
        Permission::ResidentsView,
        Permission::ResidentsEdit,
        Permission::ResidentsLifecycle,
        Permission::ResidentsPurge,
        Permission::ResidentsBulk,
        Permission::ResidentsImport,
        Permission::ResidentsExport,
        Permission::StaffView,
        Permission::StaffAdd,
        Permission::StaffEdit,
        Permission::StaffDelete,
        Permission::SitesView,
        Permission::SitesSettings,
        Permission::TeamView,
        Permission::TeamMembers,
        Permission::TeamSettings,
        Permission::SyncOperate,
        Permission::SyncConfigure,
        Permission::AuditView,
        Permission::AuditExport,
    ];

    pub fn category(self) -> Category {
        use Permission::*;
        match self {
            ResidentsView | ResidentsEdit | ResidentsLifecycle | ResidentsPurge | ResidentsBulk | ResidentsImport
            | ResidentsExport => Category::Residents,
            StaffView | StaffAdd | StaffEdit | StaffDelete => Category::Staff,
            SitesView | SitesSettings => Category::Sites,
            TeamView | TeamMembers | TeamSettings => Category::Team,
            SyncOperate | SyncConfigure => Category::Sync,
            AuditView | AuditExport => Category::Audit,
        }
    }

    /// `residents.view`, `staff.add`, ...
    pub fn as_str(self) -> &'static str {
        use Permission::*;
        match self {
            ResidentsView => "residents.view",
            ResidentsEdit => "residents.edit",
            ResidentsLifecycle => "residents.lifecycle",
            ResidentsPurge => "residents.purge",
            ResidentsBulk => "residents.bulk",
            ResidentsImport => "residents.import",
            ResidentsExport => "residents.export",
            StaffView => "staff.view",
            StaffAdd => "staff.add",
            StaffEdit => "staff.edit",
            StaffDelete => "staff.delete",
            SitesView => "sites.view",
            SitesSettings => "sites.settings",
            TeamView => "team.view",
            TeamMembers => "team.members",
            TeamSettings => "team.settings",
            SyncOperate => "sync.operate",
            SyncConfigure => "sync.configure",
            AuditView => "audit.view",
            AuditExport => "audit.export",
        }
    }

    /// The verb phrase used in explanations under Table-1's defaults ("Staff users cannot
    /// manage staff users"): Table-1's own words where a feature covers the permission.
    pub fn phrase(self) -> &'static str {
        use Permission::*;
        match self {
            ResidentsView => "view residents",
            ResidentsEdit => "manage residents",
            ResidentsLifecycle => "change a resident's status",
            ResidentsPurge => "purge residents",
            ResidentsBulk => "run bulk actions",
            ResidentsImport => "import residents",
            ResidentsExport => "export residents",
            StaffView | StaffAdd | StaffEdit | StaffDelete => "manage staff users",
            SitesView => "view individual sites",
            SitesSettings => "edit site settings",
            TeamView => "view team details",
            TeamMembers => "edit team members",
            TeamSettings => "edit team settings",
            SyncOperate => "run a sync",
            SyncConfigure => "configure sync",
            AuditView => "read the audit log",
            AuditExport => "export the audit log",
        }
    }

    /// Parses `residents.view`, `residents:view`, `RESIDENTS_VIEW` (case ignored).
    pub fn parse(text: &str) -> Option<Permission> {
        let key = text.trim().to_ascii_lowercase().replace([':', '_', '-', ' '], ".");
        Permission::ALL.into_iter().find(|p| p.as_str() == key)
    }

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Permission {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Permission {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Permission::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown permission {text:?}")))
    }
}

/// A set of permissions (a bit set: cheap to copy, intersect and compare).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PermSet(u32);

impl PermSet {
    pub const EMPTY: PermSet = PermSet(0);

    pub fn all() -> PermSet {
        Permission::ALL.into_iter().collect()
    }
    pub fn bits(self) -> u32 {
        self.0
    }
    pub fn from_bits(bits: u32) -> PermSet {
        PermSet(bits & PermSet::all().0)
    }
    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }
    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }
    pub fn union(self, other: PermSet) -> PermSet {
        PermSet(self.0 | other.0)
    }
    pub fn intersection(self, other: PermSet) -> PermSet {
        PermSet(self.0 & other.0)
    }
    /// What `self` has that `other` has not.
    pub fn difference(self, other: PermSet) -> PermSet {
        PermSet(self.0 & !other.0)
    }
    pub fn is_subset(self, other: PermSet) -> bool {
        self.0 & !other.0 == 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }
    /// `residents.view, staff.add` (or `nothing`).
    pub fn describe(self) -> String {
        if self.is_empty() {
            return "nothing".into();
        }
        self.iter().map(Permission::as_str).collect::<Vec<_>>().join(", ")
    }
    /// Parses a list of permission names; the error names the unknown one.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<PermSet, String> {
        let mut set = PermSet::EMPTY;
        for item in items.iter().flat_map(|s| s.as_ref().split(',')).filter(|s| !s.trim().is_empty()) {
            set.insert(Permission::parse(item).ok_or_else(|| format!("unknown permission {:?}", item.trim()))?);
        }
        Ok(set)
    }
}

impl FromIterator<Permission> for PermSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut s = PermSet::EMPTY;
        for p in iter {
            s.insert(p);
        }
        s
    }
}

impl Serialize for PermSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Permission::as_str))
    }
}

impl<'de> Deserialize<'de> for PermSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<Permission>::deserialize(d)?;
        Ok(items.into_iter().collect())
    }
}

/// The permissions a built-in hierarchical role adds on top of the one below it.
pub fn level_own(level: Level) -> PermSet {
    use Permission::*;
    let list: &[Permission] = match level {
        Level::StaffUser => &[
            ResidentsView,
            ResidentsEdit,
            ResidentsLifecycle,
            ResidentsPurge,
            ResidentsBulk,
            ResidentsImport,
            ResidentsExport,
            SitesView,
            TeamView,
            SyncOperate,
        ],
        Level::StaffLocalAdmin => &[StaffView, StaffAdd, StaffEdit, StaffDelete],
        // Team users differ from local-admins by reaching every site of the team.
        Level::TeamUser => &[],
        Level::TeamAdmin => &[SitesSettings, TeamMembers, TeamSettings, SyncConfigure, AuditView, AuditExport],
    };
    list.iter().copied().collect()
}

/// Everything a built-in hierarchical role holds: its own permissions and those it inherits.
pub fn level_permissions(level: Level) -> PermSet {
    Level::ALL.into_iter().filter(|l| *l <= level).map(level_own).fold(PermSet::EMPTY, PermSet::union)
}

/// What a Table-1 feature needs: these permissions, and (for "view all team sites") access
/// to every site of the team.
pub fn feature_needs(feature: Feature) -> (PermSet, bool) {
    use Permission::*;
    let (perms, all_sites): (&[Permission], bool) = match feature {
        Feature::ManageResidents => (&[ResidentsEdit], false),
        Feature::ViewIndividualSites => (&[SitesView], false),
        Feature::ManageStaffUsers => (&[StaffEdit], false),
        Feature::ViewAllTeamSites => (&[SitesView], true),
        Feature::ViewSiteSettings => (&[SitesView], false),
        Feature::EditSiteSettings => (&[SitesSettings], false),
        Feature::ViewTeamDetails => (&[TeamView], false),
        Feature::ViewTeamMembers => (&[TeamMembers], false),
        Feature::EditTeamMembers => (&[TeamMembers, StaffEdit], false),
        Feature::EditTeamSettings => (&[TeamSettings], false),
    };
    (perms.iter().copied().collect(), all_sites)
}

/// Hierarchical (one per person, inheriting) or add-on (on top of a base role).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum RoleKind {
    Hierarchical,
    AddOn,
}

/// A role as listed and assigned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Role {
    /// Stable key: `team_admin`, `auditor`, `exporter`...
    pub key: String,
    pub name: String,
    pub kind: RoleKind,
    /// Everything the role gives (for hierarchical roles: including what they inherit).
    #[cfg_attr(feature = "ts", ts(as = "Vec<String>"))]
    pub permissions: PermSet,
    /// Whether a person may assign it by hand (otherwise only the system gives it).
    pub assignable: bool,
    pub builtin: bool,
    /// For hierarchical roles, the Table-1 level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    #[serde(default)]
    pub description: String,
}

/// The built-in roles: the four hierarchical Table-1 levels and three add-ons.
pub fn builtin_roles() -> Vec<Role> {
    use Permission::*;
    let mut roles: Vec<Role> = Level::ALL
        .into_iter()
        .map(|l| Role {
            key: l.as_str().into(),
            name: l.title().into(),
            kind: RoleKind::Hierarchical,
            permissions: level_permissions(l),
            assignable: true,
            builtin: true,
            level: Some(l),
            description: format!("Table-1 {}; inherits every role below it", l.title()),
        })
        .collect();
    let addon = |key: &str, name: &str, perms: &[Permission], assignable: bool, description: &str| Role {
        key: key.into(),
        name: name.into(),
        kind: RoleKind::AddOn,
        permissions: perms.iter().copied().collect(),
        assignable,
        builtin: true,
        level: None,
        description: description.into(),
    };
    roles.push(addon("auditor", "Auditor", &[AuditView, AuditExport], true, "reads and exports the audit log"));
    roles.push(addon(
        "sync_operator",
        "Sync operator",
        &[SyncOperate, SyncConfigure],
        true,
        "runs and configures synchronisation",
    ));
    roles.push(addon(
        "remote_synced",
        "Synced from Site Manager",
        &[],
        false,
        "marks accounts created by synchronisation; given by the system only",
    ));
    roles
}

static BUILTIN_ROLES: std::sync::LazyLock<Vec<Role>> = std::sync::LazyLock::new(builtin_roles);

/// The built-in role with this key.
pub fn builtin_role(key: &str) -> Option<Role> {
    BUILTIN_ROLES.iter().find(|r| r.key == key).cloned()
}

/// Site access of a member in one team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case", tag = "mode", content = "sites")]
pub enum SiteAccess {
    /// Every site of the team, including sites added later.
    AllSites,
    /// Only these sites (at least one).
    Listed(BTreeSet<i64>),
}

impl SiteAccess {
    pub fn covers(&self, site_id: i64) -> bool {
        match self {
            SiteAccess::AllSites => true,
            SiteAccess::Listed(s) => s.contains(&site_id),
        }
    }
    /// Whether `self` reaches no site that `other` does not.
    pub fn is_within(&self, other: &SiteAccess) -> bool {
        match (self, other) {
            (_, SiteAccess::AllSites) => true,
            (SiteAccess::AllSites, SiteAccess::Listed(_)) => false,
            (SiteAccess::Listed(a), SiteAccess::Listed(b)) => a.is_subset(b),
        }
    }
    /// What both reach.
    pub fn intersect(&self, other: &SiteAccess) -> SiteAccess {
        match (self, other) {
            (SiteAccess::AllSites, x) | (x, SiteAccess::AllSites) => x.clone(),
            (SiteAccess::Listed(a), SiteAccess::Listed(b)) => SiteAccess::Listed(a.intersection(b).copied().collect()),
        }
    }
}

/// Where a permission comes from, for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Source {
    pub role: String,
    pub name: String,
    pub permissions: PermSet,
}

/// What a session effectively holds in its active team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grants {
    /// The base (hierarchical) role.
    pub base: Level,
    /// Add-on roles on top of it.
    pub addons: Vec<Source>,
    /// Every permission held (base, inherited and add-ons; cut down by a token).
    pub permissions: PermSet,
    pub sites: SiteAccess,
    /// When the session is an API token: its name (its limits are already applied).
    pub token: Option<String>,
}

impl Grants {
    /// Exactly the default policy for a level (Table-1): Team-level roles reach every site,
    /// Staff-level roles their member sites.
    pub fn for_level(level: Level, member_sites: &BTreeSet<i64>) -> Grants {
        let sites = if level.is_team_level() { SiteAccess::AllSites } else { SiteAccess::Listed(member_sites.clone()) };
        Grants { base: level, addons: vec![], permissions: level_permissions(level), sites, token: None }
    }

    /// A member's grants from their base role, add-on roles and site access. Team-level base
    /// roles always reach every site.
    pub fn resolve(base: Level, addons: &[Role], sites: SiteAccess) -> Grants {
        let mut permissions = level_permissions(base);
        let mut sources = Vec::new();
        for role in addons.iter().filter(|r| r.kind == RoleKind::AddOn) {
            permissions = permissions.union(role.permissions);
            sources.push(Source { role: role.key.clone(), name: role.name.clone(), permissions: role.permissions });
        }
        let sites = if base.is_team_level() { SiteAccess::AllSites } else { sites };
        Grants { base, addons: sources, permissions, sites, token: None }
    }

    /// Cuts these grants down to a token's permissions and sites.
    pub fn limit_to_token(&self, name: &str, permissions: PermSet, sites: &SiteAccess) -> Grants {
        Grants {
            permissions: self.permissions.intersection(permissions),
            sites: self.sites.intersect(sites),
            token: Some(name.to_string()),
            ..self.clone()
        }
    }

    /// Whether these are exactly the Table-1 defaults of the base role (so explanations can
    /// quote Table-1).
    pub fn is_table_1(&self) -> bool {
        self.addons.is_empty()
            && self.token.is_none()
            && self.permissions == level_permissions(self.base)
            && (matches!(self.sites, SiteAccess::AllSites) == self.base.is_team_level())
    }

    pub fn all_sites(&self) -> bool {
        matches!(self.sites, SiteAccess::AllSites)
    }

    /// The roles that give `perm`, for explanations: the lowest built-in level holding it
    /// ("Staff user, inherited by Team administrator") and any add-on role.
    pub fn sources_of(&self, perm: Permission) -> Vec<String> {
        let mut out = Vec::new();
        if level_permissions(self.base).contains(perm) {
            let from = Level::ALL.into_iter().find(|l| level_own(*l).contains(perm)).unwrap_or(self.base);
            if from == self.base {
                out.push(format!("role {}", self.base.title()));
            } else {
                out.push(format!("role {} (inherited from {})", self.base.title(), from.title()));
            }
        }
        for a in self.addons.iter().filter(|a| a.permissions.contains(perm)) {
            out.push(format!("add-on role {}", a.name));
        }
        out
    }

    /// A short description of who holds these grants ("Staff user + Auditor", "token ci").
    pub fn holder(&self) -> String {
        self.holder_of().to_string()
    }

    /// Who holds these grants, as data (for a refusal's parameters).
    pub fn holder_of(&self) -> super::Holder {
        super::Holder {
            level: self.base,
            addons: self
                .addons
                .iter()
                .map(|a| super::denial::RoleName { key: a.role.clone(), name: a.name.clone() })
                .collect(),
            token: self.token.clone(),
        }
    }
}

/// A job function: a template giving a new staff member its initial roles and site access.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobFunction {
    pub key: String,
    pub name: String,
    pub base: Level,
    pub addons: Vec<String>,
    pub all_sites: bool,
}

/// The built-in job functions.
pub fn builtin_job_functions() -> Vec<JobFunction> {
    let jf = |key: &str, name: &str, base: Level, addons: &[&str], all_sites: bool| JobFunction {
        key: key.into(),
        name: name.into(),
        base,
        addons: addons.iter().map(|s| s.to_string()).collect(),
        all_sites,
    };
    vec![
        jf("leasing_agent", "Leasing agent", Level::StaffUser, &[], false),
        jf("property_manager", "Property manager", Level::StaffLocalAdmin, &[], false),
        jf("regional_manager", "Regional manager", Level::TeamUser, &[], true),
        jf("compliance_officer", "Compliance officer", Level::StaffUser, &["auditor"], true),
        jf("it_integrator", "IT integrator", Level::StaffUser, &["sync_operator"], true),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_inherit_and_reproduce_table_1() {
        for w in Level::ALL.windows(2) {
            assert!(level_permissions(w[0]).is_subset(level_permissions(w[1])));
        }
        assert_eq!(level_permissions(Level::TeamAdmin), PermSet::all());
        for level in Level::ALL {
            let g = Grants::for_level(level, &BTreeSet::new());
            for feature in Feature::ALL {
                let (need, all_sites) = feature_needs(feature);
                let held = need.is_subset(g.permissions) && (!all_sites || g.all_sites());
                assert_eq!(held, super::super::level_allows(level, feature), "{level:?} {feature:?}");
            }
        }
    }

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(p));
        }
        assert_eq!(Permission::parse("STAFF_ADD"), Some(Permission::StaffAdd));
        assert_eq!(PermSet::parse_list(&["audit.view,audit.export"]).unwrap().bits().count_ones(), 2);
        assert!(PermSet::parse_list(&["audit.delete"]).unwrap_err().contains("audit.delete"));
        let json = serde_json::to_string(&level_permissions(Level::StaffLocalAdmin)).unwrap();
        assert!(json.contains("\"staff.add\""));
        let back: PermSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, level_permissions(Level::StaffLocalAdmin));
    }

    #[test]
    fn site_access_algebra() {
        let a = SiteAccess::Listed([1, 2].into_iter().collect());
        let b = SiteAccess::Listed([2].into_iter().collect());
        assert!(b.is_within(&a) && !a.is_within(&b));
        assert!(a.is_within(&SiteAccess::AllSites) && !SiteAccess::AllSites.is_within(&a));
        assert_eq!(a.intersect(&SiteAccess::AllSites), a);
        assert_eq!(a.intersect(&b), b);
    }

    #[test]
    fn sources_name_the_role() {
        let auditor = builtin_role("auditor").unwrap();
        let g = Grants::resolve(Level::StaffUser, &[auditor], SiteAccess::AllSites);
        assert!(!g.is_table_1());
        assert_eq!(g.sources_of(Permission::AuditView), vec!["add-on role Auditor".to_string()]);
        let admin = Grants::for_level(Level::TeamAdmin, &BTreeSet::new());
        assert_eq!(
            admin.sources_of(Permission::ResidentsEdit),
            vec!["role Team administrator (inherited from Staff user)".to_string()]
        );
        assert!(admin.is_table_1());
    }
}
