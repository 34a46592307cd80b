//! The glossary: the names a person reads for what the core knows by id (roles, permissions,
//! Table-1 features, site types, places), and the core's coded messages — refusals of access
//! (`Denial`), results of resident actions (`ActionSaid`) and of conflict resolutions
//! (`ResolvedSaid`), import row problems (`RowCode`), conflict kinds — said in the person's
//! language from the catalog. Every code is a key of a typed record or an exhaustive switch
//! over the generated bindings, so a code added in Rust fails `npm run check` until it is
//! given its words; ids stay on the Advanced views.
import type { ActionSaid } from '../api/bindings/ActionSaid';
import type { BulkItem } from '../api/bindings/BulkItem';
import type { Asked } from '../api/bindings/Asked';
import type { Conflict } from '../api/bindings/Conflict';
import type { ConflictKind } from '../api/bindings/ConflictKind';
import type { Denial } from '../api/bindings/Denial';
import type { Entry } from '../api/bindings/Entry';
import type { Feature } from '../api/bindings/Feature';
import type { Holder } from '../api/bindings/Holder';
import type { Level } from '../api/bindings/Level';
import type { Permission } from '../api/bindings/Permission';
import type { PassProblem } from '../api/bindings/PassProblem';
import type { Place } from '../api/bindings/Place';
import type { ResolvedSaid } from '../api/bindings/ResolvedSaid';
import type { RowCode } from '../api/bindings/RowCode';
import type { StatusFlag } from '../api/bindings/StatusFlag';
import { fieldLabel, RESIDENT_FIELD_NAMES } from '../residentFields';
import { fileCodeText } from './importProblems';
import type { MessageKey } from './en';
import { day, time } from './intl';
import { cachedListFormat } from './intlCache';
import { isMessageKey, locale, t } from './locale.svelte';

/** A list in words for the locale ("A, B and C" / "A, B y C"). */
export function list(items: string[]): string {
  return cachedListFormat(locale()).format(items);
}

/** Every permission with its name, its one-line description and the verb of refusals. */
export const PERMISSIONS: Record<Permission, { name: MessageKey; about: MessageKey; verb: MessageKey }> = {
  'residents.view': { name: 'perm.residents.view', about: 'perm.residents.view.about', verb: 'perm.residents.view.verb' },
  'residents.edit': { name: 'perm.residents.edit', about: 'perm.residents.edit.about', verb: 'perm.residents.edit.verb' },
  'residents.lifecycle': { name: 'perm.residents.lifecycle', about: 'perm.residents.lifecycle.about', verb: 'perm.residents.lifecycle.verb' },
  'residents.purge': { name: 'perm.residents.purge', about: 'perm.residents.purge.about', verb: 'perm.residents.purge.verb' },
  'residents.bulk': { name: 'perm.residents.bulk', about: 'perm.residents.bulk.about', verb: 'perm.residents.bulk.verb' },
  'residents.import': { name: 'perm.residents.import', about: 'perm.residents.import.about', verb: 'perm.residents.import.verb' },
  'residents.export': { name: 'perm.residents.export', about: 'perm.residents.export.about', verb: 'perm.residents.export.verb' },
  'staff.view': { name: 'perm.staff.view', about: 'perm.staff.view.about', verb: 'perm.staff.view.verb' },
  'staff.add': { name: 'perm.staff.add', about: 'perm.staff.add.about', verb: 'perm.staff.add.verb' },
  'staff.edit': { name: 'perm.staff.edit', about: 'perm.staff.edit.about', verb: 'perm.staff.edit.verb' },
  'staff.delete': { name: 'perm.staff.delete', about: 'perm.staff.delete.about', verb: 'perm.staff.delete.verb' },
  'sites.view': { name: 'perm.sites.view', about: 'perm.sites.view.about', verb: 'perm.sites.view.verb' },
  'sites.settings': { name: 'perm.sites.settings', about: 'perm.sites.settings.about', verb: 'perm.sites.settings.verb' },
  'team.view': { name: 'perm.team.view', about: 'perm.team.view.about', verb: 'perm.team.view.verb' },
  'team.members': { name: 'perm.team.members', about: 'perm.team.members.about', verb: 'perm.team.members.verb' },
  'team.settings': { name: 'perm.team.settings', about: 'perm.team.settings.about', verb: 'perm.team.settings.verb' },
  'sync.operate': { name: 'perm.sync.operate', about: 'perm.sync.operate.about', verb: 'perm.sync.operate.verb' },
  'sync.configure': { name: 'perm.sync.configure', about: 'perm.sync.configure.about', verb: 'perm.sync.configure.verb' },
  'audit.view': { name: 'perm.audit.view', about: 'perm.audit.view.about', verb: 'perm.audit.view.verb' },
  'audit.export': { name: 'perm.audit.export', about: 'perm.audit.export.about', verb: 'perm.audit.export.verb' },
};

/** The four base roles (Table-1 levels): name, plural, one-line description. */
export const LEVELS: Record<Level, { name: MessageKey; plural: MessageKey; about: MessageKey }> = {
  staff_user: { name: 'level.staff_user', plural: 'level.staff_user.plural', about: 'level.staff_user.about' },
  staff_local_admin: { name: 'level.staff_local_admin', plural: 'level.staff_local_admin.plural', about: 'level.staff_local_admin.about' },
  team_user: { name: 'level.team_user', plural: 'level.team_user.plural', about: 'level.team_user.about' },
  team_admin: { name: 'level.team_admin', plural: 'level.team_admin.plural', about: 'level.team_admin.about' },
};

/** The ten Table-1 features: name and the verb of refusals. */
export const FEATURES: Record<Feature, { name: MessageKey; verb: MessageKey }> = {
  manage_residents: { name: 'feature.manage_residents', verb: 'feature.manage_residents.verb' },
  view_individual_sites: { name: 'feature.view_individual_sites', verb: 'feature.view_individual_sites.verb' },
  manage_staff_users: { name: 'feature.manage_staff_users', verb: 'feature.manage_staff_users.verb' },
  view_all_team_sites: { name: 'feature.view_all_team_sites', verb: 'feature.view_all_team_sites.verb' },
  view_site_settings: { name: 'feature.view_site_settings', verb: 'feature.view_site_settings.verb' },
  edit_site_settings: { name: 'feature.edit_site_settings', verb: 'feature.edit_site_settings.verb' },
  view_team_details: { name: 'feature.view_team_details', verb: 'feature.view_team_details.verb' },
  view_team_members: { name: 'feature.view_team_members', verb: 'feature.view_team_members.verb' },
  edit_team_members: { name: 'feature.edit_team_members', verb: 'feature.edit_team_members.verb' },
  edit_team_settings: { name: 'feature.edit_team_settings', verb: 'feature.edit_team_settings.verb' },
};

/** The built-in add-on roles the catalog names (a team's own roles keep the name it gave). */
export const BUILTIN_ADDONS: Record<string, { name: MessageKey; about: MessageKey }> = {
  auditor: { name: 'role.auditor', about: 'role.auditor.about' },
  sync_operator: { name: 'role.sync_operator', about: 'role.sync_operator.about' },
  remote_synced: { name: 'role.remote_synced', about: 'role.remote_synced.about' },
};

export const permissionName = (p: string): string => (p in PERMISSIONS ? t(PERMISSIONS[p as Permission].name) : p);
export const permissionAbout = (p: string): string => (p in PERMISSIONS ? t(PERMISSIONS[p as Permission].about) : '');
export const levelName = (l: string): string => (l in LEVELS ? t(LEVELS[l as Level].name) : l);
export const levelAbout = (l: string): string => (l in LEVELS ? t(LEVELS[l as Level].about) : '');
export const featureName = (f: string): string => (f in FEATURES ? t(FEATURES[f as Feature].name) : f);

/** A role by key: a base role or a built-in add-on in words, a team's own by its name. */
export function roleName(key: string, name?: string): string {
  if (key in LEVELS) return levelName(key);
  if (key in BUILTIN_ADDONS) return t(BUILTIN_ADDONS[key].name);
  return name ?? key;
}

/** A role's one-line description (a team's own role: the description it was given). */
export function roleAbout(key: string, description = ''): string {
  if (key in LEVELS) return levelAbout(key);
  if (key in BUILTIN_ADDONS) return t(BUILTIN_ADDONS[key].about);
  return description;
}

/** A permission category (`residents`, `staff`…) in words. */
export const categoryName = (c: string): string => {
  const key = `category.${c}`;
  return isMessageKey(key) ? t(key) : c;
};

/** A site type in words (`PPK-C` → personal Wi-Fi keys); an unknown type as Site Manager names it. */
export function siteTypeName(type: string): string {
  const key = `siteType.${type.trim().toUpperCase()}`;
  return isMessageKey(key) ? t(key) : type;
}

/** An audit row's action in words ("Suspended a resident"): the use case's name, or one of the
 *  few steps the core audits outside a use case (bulk.*, access.grant, sync.site_added …).
 *  Every name the core writes has a `uc.` message (src-tauri/tests/ui_gates.rs); a name from an
 *  older database that no longer exists shows as written. */
export function auditActionName(action: string): string {
  const key = `uc.${action}`;
  return isMessageKey(key) ? t(key) : action;
}

/** What was asked, as the verb phrase of a refusal ("manage staff users"). */
export function askedVerb(a: Asked): string {
  return 'feature' in a ? t(FEATURES[a.feature].verb) : t(PERMISSIONS[a.permission].verb);
}

/** What was asked, as a name (a feature or a permission). */
export function askedName(a: Asked): string {
  return 'feature' in a ? featureName(a.feature) : permissionName(a.permission);
}

export function placeText(p: Place): string {
  return p.kind === 'team' ? t('place.team', { name: p.name }) : t('place.site', { name: p.name });
}

/** Who holds the grants: "Staff user and Auditor" (or the API token of one). */
export function holderText(h: Holder): string {
  const roles = list([levelName(h.level), ...h.addons.map((a) => roleName(a.key, a.name))]);
  return h.token ? t('holder.token', { token: h.token, roles }) : roles;
}

const permissionList = (ps: Permission[]): string => list(ps.map(permissionName));

const OWNER_ONLY: Record<string, MessageKey> = {
  'backup.restore': 'denial.owner_only.restore',
  'db.encrypt': 'denial.owner_only.encrypt',
  'db.rekey': 'denial.owner_only.rekey',
  'account.disable': 'denial.owner_only.disable',
  'staff.reset_password': 'denial.owner_only.reset_password',
  'owner.transfer': 'denial.owner_only.transfer',
};

/** A refusal of access in the person's language: addressed to them, or about `who` (the
 * Explain screen asking about someone else). */
export function denialText(d: Denial, who?: string): string {
  switch (d.denial) {
    case 'no_team':
      return t('denial.no_team', { email: d.email });
    case 'other_team':
      return t('denial.other_team', { place: placeText(d.place), team: d.team });
    case 'level_cannot':
      return who
        ? t('denial.level_cannot.other', { who, level: levelName(d.level), asked: askedVerb(d.asked), place: placeText(d.place) })
        : t('denial.level_cannot', { level: levelName(d.level), asked: askedVerb(d.asked), place: placeText(d.place) });
    case 'lacks': {
      const p = { holder: holderText(d.holder), asked: askedVerb(d.asked), place: placeText(d.place) };
      const missing = { ...p, missing: permissionList(d.missing), count: d.missing.length };
      if (d.missing.length === 0) return who ? t('denial.lacks_sites.other', { ...p, who }) : t('denial.lacks_sites', p);
      return who ? t('denial.lacks.other', { ...missing, who }) : t('denial.lacks', missing);
    }
    case 'not_your_site':
      return t('denial.not_your_site', { site: d.site });
    case 'no_site':
      return t('denial.no_site');
    case 'token_cannot':
      return t('denial.token_cannot');
    case 'owner_only':
      return t(OWNER_ONLY[d.use_case] ?? 'denial.owner_only');
    case 'owner_by_owner':
      return t('denial.owner_by_owner');
    case 'owner_stays':
      return t('denial.owner_stays');
    case 'owner_disables_self':
      return t('denial.owner_disables_self');
    case 'own_rights':
      return t('denial.own_rights');
    case 'remove_self':
      return t('denial.remove_self');
    case 'above':
      return t('denial.above', { grantor: levelName(d.grantor), member: levelName(d.member) });
    case 'holds_more':
      return t('denial.holds_more', { permissions: permissionList(d.permissions) });
    case 'sites_beyond_member':
      return t('denial.sites_beyond_member');
    case 'not_assignable':
      return t('denial.not_assignable', { role: roleName(d.role.key, d.role.name) });
    case 'grant_above':
      return t('denial.grant_above', { grantor: levelName(d.grantor), level: levelName(d.level) });
    case 'grant_beyond':
      return t('denial.grant_beyond', { permissions: permissionList(d.permissions) });
    case 'grant_all_sites':
      return t('denial.grant_all_sites');
    case 'grant_sites':
      return t('denial.grant_sites', { count: d.sites.length });
    case 'token_beyond':
      return t('denial.token_beyond', { permissions: permissionList(d.permissions) });
    case 'token_sites':
      return t('denial.token_sites');
    case 'role_beyond':
      return t('denial.role_beyond', { permissions: permissionList(d.permissions) });
    case 'explain_above':
      return t('denial.explain_above', { email: d.email });
    default:
      return unreachable(d);
  }
}

/** A resident's status flags in words ("active and invitation not accepted"). */
export function statusWords(flags: StatusFlag[]): string {
  return flags.length === 0 ? t('status.none') : list(flags.map((f) => t(`status.${f}`)));
}

/** What a resident action did, in the person's language. */
export function actionSaidText(s: ActionSaid): string {
  switch (s.said) {
    case 'suspended':
      return t('said.suspended', { name: s.name });
    case 'unsuspended':
      return t('said.unsuspended', { name: s.name });
    case 'nothing_to_do':
      return t('said.nothing_to_do', { name: s.name, status: statusWords(s.status) });
    case 'terminated':
      return t('said.terminated', { name: s.name, day: day(s.day) });
    case 'already_ended':
      return t('said.already_ended', { name: s.name });
    case 'reinstated':
      return s.until ? t('said.reinstated', { name: s.name, day: day(s.until) }) : t('said.reinstated_open', { name: s.name });
    case 'deleted_permanently':
      return t('said.deleted_permanently', { name: s.name });
    case 'invitation_resent':
      return t('said.invitation_resent', { email: s.email });
    case 'wifi_details_resent':
      return t('said.wifi_details_resent', { email: s.email });
    case 'wifi_key_reset':
      return t('said.wifi_key_reset', { email: s.email });
    default:
      return unreachable(s);
  }
}

/** One resident's result in a bulk action, in the person's language (a refusing rule is said
 * by `ruleText`, passed in: errors.ts imports this module). */
export function bulkItemText(i: BulkItem, ruleText: (r: NonNullable<Extract<BulkItem['said'], { said: 'refused' }>['rule']>) => string): string {
  switch (i.said.said) {
    case 'done':
      return t('bulk.done');
    case 'not_applicable':
      return t('bulk.not_applicable', { status: statusWords(i.said.status) });
    case 'refused':
      return i.said.rule ? ruleText(i.said.rule) : i.result;
    default:
      return unreachable(i.said);
  }
}

/** What resolving a conflict did, in the person's language. */
export function resolvedText(s: ResolvedSaid): string {
  switch (s.said) {
    case 'kept': {
      const kept = Object.entries(s.fields).map(([field, side]) =>
        t(side === 'local' ? 'resolved.here' : 'resolved.siteManager', { field: fieldLabel(field) }),
      );
      return t('resolved.kept', { kept: list(kept) });
    }
    case 'created_again':
      return t('resolved.created_again', { email: s.email });
    case 'removed_here':
      return t('resolved.removed_here', { email: s.email });
    case 'gone':
      return t('resolved.gone');
    case 'sent_again':
      return t('resolved.sent_again');
    case 'not_created':
      return t('resolved.not_created', { email: s.email });
    case 'stays_in_remote_unit':
      return t('resolved.stays_in_remote_unit', { email: s.email });
    default:
      return unreachable(s);
  }
}

/** An import row problem that is not a resident rule, in the person's language. */
export function rowCodeText(c: RowCode, english: string): string {
  switch (c.problem) {
    case 'row_cut':
      return t('rowCode.row_cut', { cells: c.cells, width: c.width });
    case 'row_overflow':
      return t('rowCode.row_overflow', { cells: c.cells, width: c.width });
    case 'cell_too_long':
      return t('rowCode.cell_too_long', { max: c.max, len: c.len });
    case 'nul_byte':
      return t('rowCode.nul_byte');
    case 'other_site':
      return t('rowCode.other_site', { named: c.named, site: c.site });
    case 'email_twice':
      return t('rowCode.email_twice', { email: c.email, row: c.row });
    case 'unit_twice':
      return t('rowCode.unit_twice', { building: c.building, floor: c.floor, unit: c.unit, row: c.row });
    case 'file':
      return t('rowCode.file', { message: fileCodeText(c.file) });
    default:
      return unreachable(c);
  }
}

const CONFLICT_KINDS: Record<ConflictKind, MessageKey> = {
  field: 'conflict.kind.field',
  remote_purge: 'conflict.kind.remote_purge',
  unit_taken: 'conflict.kind.unit_taken',
};

/** What a conflict is about, from its kind and the fields in dispute. */
export function conflictText(c: Conflict): string {
  const kind = c.kind as ConflictKind;
  if (!(kind in CONFLICT_KINDS)) return c.message;
  const f = c.fields;
  const fields = kind === 'field' && f && typeof f === 'object' && !Array.isArray(f) ? Object.keys(f).map(fieldLabel) : [];
  return t(CONFLICT_KINDS[kind], { fields: list(fields), count: fields.length });
}

/** Site Manager's own words (a refusal's message, in its language) with its field names said
 *  as the desk says them ("FirstName is required" → "First name is required"): the vendor's
 *  sentence cannot be translated, but the names in it need not be the API's. */
const API_FIELD = new RegExp(`\\b(${RESIDENT_FIELD_NAMES.join('|')})\\b`, 'g');
export function remoteWords(message: string): string {
  return message.replace(API_FIELD, (name) => fieldLabel(name));
}

/** Why an outbox entry waits or stopped, said by its state; Site Manager's own words (or the
 * core's, for a change it refused before sending) follow where the person needs them. */
export function outboxWhy(e: Entry): string {
  switch (e.state) {
    case 'conflict':
      return t('outbox.why.conflict');
    case 'rejected':
      return e.last_error ? t('outbox.why.rejected', { message: remoteWords(e.last_error) }) : t('outbox.why.rejectedNoWords');
    case 'pending':
    case 'in_flight':
      return e.last_error ? t('outbox.why.retry', { message: remoteWords(e.last_error) }) : '';
    default:
      return '';
  }
}

/** Why the last sync did not end cleanly, in the person's language (`reasonText` says a
 * core error's reason: errors.ts imports this module). */
export function passProblemText(p: PassProblem, reasonText: (r: NonNullable<Extract<PassProblem, { problem: 'stopped' }>['reason']>) => string): string {
  switch (p.problem) {
    case 'credentials_refused':
      return t('pass.credentials_refused');
    case 'busy':
      return t('error.reason.sync_busy', { holder: p.holder, since: time(p.since) });
    case 'unreachable':
      return t('pass.unreachable');
    case 'some_failed':
      return t('pass.some_failed', { count: p.count });
    case 'stopped':
      return p.reason ? reasonText(p.reason) : t('pass.stopped');
    default:
      return unreachable(p);
  }
}

function unreachable(x: never): string {
  return String((x as { denial?: string; said?: string; problem?: string }).denial ?? x);
}
