// Plain words: every message of both catalogs, and every code the core sends (refusals,
// results of actions and resolutions, import row problems, broken rules, error reasons,
// conflict kinds) rendered with sample parameters in both languages, speaks without API field
// names, snake_case ids or permission ids. The sample records are typed over the generated
// bindings, so a code added in Rust fails `npm run check` until it has a sample here and
// words in the catalogs.
import { describe, it, expect, afterEach } from 'vitest';
import type { ActionSaid } from '../api/bindings/ActionSaid';
import type { BulkItem } from '../api/bindings/BulkItem';
import type { Conflict } from '../api/bindings/Conflict';
import type { ConflictKind } from '../api/bindings/ConflictKind';
import type { Denial } from '../api/bindings/Denial';
import type { ErrorReason } from '../api/bindings/ErrorReason';
import type { Feature } from '../api/bindings/Feature';
import type { Holder } from '../api/bindings/Holder';
import type { Level } from '../api/bindings/Level';
import type { PassProblem } from '../api/bindings/PassProblem';
import type { Permission } from '../api/bindings/Permission';
import type { ResolvedSaid } from '../api/bindings/ResolvedSaid';
import type { RowCode } from '../api/bindings/RowCode';
import type { FileCode } from '../api/bindings/FileCode';
import { fileCodeText } from './importProblems';
import type { RuleError } from '../api/bindings/RuleError';
import type { InvalidWhy } from '../api/bindings/InvalidWhy';
import type { NotNow } from '../api/bindings/NotNow';
import { ApiError } from '../api/ipc';
import { RESIDENT_FIELD_NAMES } from '../residentFields';
import { en } from './en';
import { es } from './es';
import { errorText, reasonText, ruleText, rowProblemText } from './errors';
import { notNowLines, notNowText } from './actions';
import {
  FEATURES, LEVELS, PERMISSIONS, actionSaidText, bulkItemText, passProblemText, conflictText, denialText, featureName, levelAbout, levelName,
  permissionAbout, permissionName, resolvedText, roleAbout, roleName, siteTypeName, outboxWhy, auditActionName,
} from './glossary';
import type { Entry } from '../api/bindings/Entry';
import { setLocaleChoice, type Locale } from './locale.svelte';
import { API_NAMES, PERMISSION_IDS, technicalTerms } from './plainWords';

afterEach(() => setLocaleChoice('en', false));

/** A message without its parameters' names (`{site_type}` is the code's, never shown). */
const withoutParameterNames = (m: string): string => m.replace(/\{\s*[A-Za-z_]+\s*(?=[,}])/g, '{');

/** Messages that name technical things on purpose, and why. */
const ALLOWED: Record<string, string> = {
  'roles.keyPlaceholder': 'an example of the key a person types for a new role',
  'tokens.example': 'the environment variable a script sets, on the API tokens screen (for IT)',
};

/** Every coded reason a value is invalid (a new one fails `npm run check` until it is here). */
const INVALID: Samples<InvalidWhy, 'why', 'why'> = {
  too_long: { why: 'too_long', max: 100 },
  control_characters: { why: 'control_characters' },
  email_no_at: { why: 'email_no_at' },
  email_not_an_address: { why: 'email_not_an_address' },
  email_characters: { why: 'email_characters' },
  email_domain: { why: 'email_domain' },
  phone_characters: { why: 'phone_characters' },
  phone_no_digits: { why: 'phone_no_digits' },
  not_a_date: { why: 'not_a_date' },
  time_zone: { why: 'time_zone' },
};

const holder: Holder = { level: 'staff_user', addons: [{ key: 'auditor', name: 'Auditor' }] };
const place = { kind: 'site', name: 'Maple Court' } as const;
type Samples<T, K extends string & keyof T, Tag extends string> = { [V in T[K] & string]: Extract<T, Record<Tag, V>> };

const DENIALS: Samples<Denial, 'denial', 'denial'> = {
  no_team: { denial: 'no_team', email: 'sam@x.test' },
  other_team: { denial: 'other_team', place, team: 'North' },
  level_cannot: { denial: 'level_cannot', level: 'staff_user', asked: { feature: 'manage_staff_users' }, place },
  lacks: { denial: 'lacks', holder, missing: ['staff.view', 'audit.export'], asked: { permission: 'staff.view' }, place },
  not_your_site: { denial: 'not_your_site', site: 'Oak Row' },
  no_site: { denial: 'no_site' },
  token_cannot: { denial: 'token_cannot', use_case: 'staff.add', summary: 'Add a staff account' },
  owner_only: { denial: 'owner_only', use_case: 'backup.restore' },
  owner_by_owner: { denial: 'owner_by_owner' },
  owner_stays: { denial: 'owner_stays' },
  owner_disables_self: { denial: 'owner_disables_self' },
  own_rights: { denial: 'own_rights' },
  remove_self: { denial: 'remove_self' },
  above: { denial: 'above', grantor: 'staff_local_admin', member: 'team_admin' },
  holds_more: { denial: 'holds_more', permissions: ['team.settings'] },
  sites_beyond_member: { denial: 'sites_beyond_member' },
  not_assignable: { denial: 'not_assignable', role: { key: 'remote_synced', name: 'Synced from Site Manager' } },
  grant_above: { denial: 'grant_above', grantor: 'staff_local_admin', level: 'team_user' },
  grant_beyond: { denial: 'grant_beyond', permissions: ['residents.purge'] },
  grant_all_sites: { denial: 'grant_all_sites' },
  grant_sites: { denial: 'grant_sites', sites: [9] },
  token_beyond: { denial: 'token_beyond', permissions: ['audit.export'] },
  token_sites: { denial: 'token_sites' },
  role_beyond: { denial: 'role_beyond', permissions: ['staff.delete'] },
  explain_above: { denial: 'explain_above', email: 'tess@x.test' },
};

const ACTIONS: Samples<ActionSaid, 'said', 'said'> = {
  suspended: { said: 'suspended', name: 'Ava Reed' },
  unsuspended: { said: 'unsuspended', name: 'Ava Reed' },
  nothing_to_do: { said: 'nothing_to_do', name: 'Ava Reed', status: ['current', 'pending'] },
  terminated: { said: 'terminated', name: 'Ava Reed', day: '2026-11-29' },
  already_ended: { said: 'already_ended', name: 'Ava Reed' },
  reinstated: { said: 'reinstated', name: 'Ava Reed', until: '2027-06-30' },
  deleted_permanently: { said: 'deleted_permanently', name: 'Ava Reed' },
  invitation_resent: { said: 'invitation_resent', email: 'ava@x.test' },
  wifi_details_resent: { said: 'wifi_details_resent', email: 'ava@x.test' },
  wifi_key_reset: { said: 'wifi_key_reset', email: 'ava@x.test' },
};

const BULK: Samples<BulkItem['said'], 'said', 'said'> = {
  done: { said: 'done' },
  not_applicable: { said: 'not_applicable', status: ['current', 'pending'] },
  refused: { said: 'refused', rule: { rule: 'not_scheduled', status: 'current' } },
};

const PASS: Samples<PassProblem, 'problem', 'problem'> = {
  credentials_refused: { problem: 'credentials_refused' },
  busy: { problem: 'busy', holder: 'desk-2', since: '2026-11-30T14:05:00Z' },
  unreachable: { problem: 'unreachable' },
  some_failed: { problem: 'some_failed', count: 3 },
  stopped: { problem: 'stopped', reason: 'db_busy' },
};

const RESOLVED: Samples<ResolvedSaid, 'said', 'said'> = {
  kept: { said: 'kept', fields: { FirstName: 'local', DeactivationDateUTC: 'remote' } },
  created_again: { said: 'created_again', email: 'ava@x.test' },
  removed_here: { said: 'removed_here', email: 'ava@x.test' },
  gone: { said: 'gone' },
  sent_again: { said: 'sent_again' },
  not_created: { said: 'not_created', email: 'ava@x.test' },
  stays_in_remote_unit: { said: 'stays_in_remote_unit', email: 'ava@x.test' },
};

const ROW_CODES: Samples<RowCode, 'problem', 'problem'> = {
  row_cut: { problem: 'row_cut', cells: 3, width: 9 },
  row_overflow: { problem: 'row_overflow', cells: 10, width: 9 },
  cell_too_long: { problem: 'cell_too_long', max: 4096, len: 5000 },
  nul_byte: { problem: 'nul_byte' },
  other_site: { problem: 'other_site', named: 'Oak Row', site: 'Maple Court' },
  email_twice: { problem: 'email_twice', email: 'ava@x.test', row: 2 },
  unit_twice: { problem: 'unit_twice', building: 'A', floor: '1', unit: '101', row: 3 },
  file: { problem: 'file', file: { fault: 'empty' } },
};

const FILE_CODES: Samples<FileCode, 'fault', 'fault'> = {
  empty: { fault: 'empty' },
  utf16: { fault: 'utf16' },
  unreadable: { fault: 'unreadable', reason: 'permission denied' },
  no_header: { fault: 'no_header' },
  header_empty: { fault: 'header_empty' },
  header_nul: { fault: 'header_nul' },
  duplicate_columns: { fault: 'duplicate_columns', first: 'Email', second: 'E-mail', field: 'Email' },
  missing_columns: { fault: 'missing_columns', missing: ['LastName', 'ActivationDateUTC'], found: ['Email', 'First Name'] },
  row_too_long: { fault: 'row_too_long', kib: 1024 },
  too_many_rows: { fault: 'too_many_rows', max: 200000 },
};

const RULES: Samples<RuleError, 'rule', 'rule'> = {
  required: { rule: 'required', field: 'ActivationDateUTC' },
  invalid: { rule: 'invalid', field: 'PhoneNumber', reason: 'too long' },
  email_taken: { rule: 'email_taken', email: 'ava@x.test' },
  email_immutable: { rule: 'email_immutable' },
  not_a_mapping: { rule: 'not_a_mapping', building: 'A', floor: '1', unit: '999' },
  unit_occupied: { rule: 'unit_occupied', unit: '101', occupant: 'Bo Lee' },
  end_before_start: { rule: 'end_before_start' },
  purge_expired: { rule: 'purge_expired' },
  expired: { rule: 'expired', action: 'resetting the Wi-Fi key' },
  not_started: { rule: 'not_started', action: 'resending an invitation' },
  not_scheduled: { rule: 'not_scheduled', status: 'current' },
  psk_reset_not_allowed: { rule: 'psk_reset_not_allowed', site_type: 'PSK' },
  bad_status_change: { rule: 'bad_status_change', given: 'Gone' },
  bad_bulk_action: { rule: 'bad_bulk_action', given: 'explode' },
  not_ended: { rule: 'not_ended' },
  grace_over: { rule: 'grace_over' },
  undo_too_late: { rule: 'undo_too_late', change: 'terminate' },
  undo_changed_since: { rule: 'undo_changed_since' },
  already_undone: { rule: 'already_undone' },
  nothing_to_undo: { rule: 'nothing_to_undo' },
};

const NOT_NOW: Samples<NotNow, 'why', 'why'> = {
  not_permitted: { why: 'not_permitted' },
  ended: { why: 'ended' },
  not_started: { why: 'not_started', day: '2026-12-01' },
  not_accepted: { why: 'not_accepted' },
  already_suspended: { why: 'already_suspended' },
  not_suspended: { why: 'not_suspended' },
  not_ended: { why: 'not_ended' },
  grace_over: { why: 'grace_over' },
  no_personal_keys: { why: 'no_personal_keys', site_type: 'PSK' },
  removed_automatically: { why: 'removed_automatically', day: '2026-12-24' },
};

const REASONS: Record<ErrorReason, true> = {
  backup_refused: true, backup_not_written: true, sync_busy: true, permission_missing: true, ambiguous: true,
  assumptions_contradicted: true, db_busy: true, key_missing: true, key_wrong: true, keyring_failed: true,
  session_locked: true, password_change_required: true, password_expired: true, db_damaged: true,
  sign_in_locked: true, invitation_pending: true, invitation_not_pending: true, invitation_too_soon: true,
  invitation_unknown: true, invitation_used: true, invitation_expired: true, invitation_inviter_lacks: true,
};

const KINDS: Record<ConflictKind, Conflict['fields']> = {
  field: { FirstName: { base: 'Ava', local: 'Avery', remote: 'Ava M.' }, ActivationDateUTC: { base: null, local: 'x', remote: 'y' } },
  remote_purge: { local: {}, remote: null },
  unit_taken: {},
};

const conflict = (kind: ConflictKind): Conflict => ({
  id: 1, created_at: '2026-11-30T10:00:00Z', site_id: 1, resident_id: 1, remote_id: null, email: 'ava@x.test', kind,
  fields: KINDS[kind], entry_ids: [], message: 'changed here and on the remote: FirstName', state: 'open',
  resolution: null, resolved_by: null, resolved_at: null,
});

/** Every coded message rendered in the current language, named for the failure report. */
function rendered(): [string, string][] {
  const out: [string, string][] = [];
  for (const d of Object.values(DENIALS)) out.push([`denial ${d.denial}`, denialText(d)]);
  for (const d of Object.values(DENIALS)) out.push([`denial ${d.denial} (about someone)`, denialText(d, 'tess@x.test')]);
  out.push(['denial lacks every site', denialText({ ...DENIALS.lacks, missing: [] })]);
  out.push(['denial lacks every site (about someone)', denialText({ ...DENIALS.lacks, missing: [] }, 'tess@x.test')]);
  for (const s of Object.values(ACTIONS)) out.push([`action ${s.said}`, actionSaidText(s)]);
  for (const b of Object.values(BULK)) {
    out.push([`bulk ${b.said}`, bulkItemText({ resident_id: 1, email: 'ava@x.test', name: 'Ava Reed', result: 'onboard-now applies to scheduled residents', said: b }, ruleText)]);
  }
  for (const p of Object.values(PASS)) out.push([`pass ${p.problem}`, passProblemText(p, reasonText)]);
  out.push(['pass stopped without a reason', passProblemText({ problem: 'stopped' }, reasonText)]);
  for (const s of Object.values(RESOLVED)) out.push([`resolved ${s.said}`, resolvedText(s)]);
  for (const c of Object.values(ROW_CODES)) {
    out.push([`row ${c.problem}`, rowProblemText({ row: 2, column: 'x', field: 'row', value: '', message: 'cannot read on', code: c })]);
  }
  for (const c of Object.values(FILE_CODES)) out.push([`file ${c.fault}`, fileCodeText(c)]);
  for (const r of Object.values(RULES)) out.push([`rule ${r.rule}`, ruleText(r)]);
  for (const why of Object.values(INVALID)) out.push([`invalid ${why.why}`, ruleText({ rule: 'invalid', field: 'Email', reason: 'core words', why })]);
  for (const reason of Object.keys(REASONS) as ErrorReason[]) {
    const e = new ApiError({ code: 'internal', message: 'core text', details: { reason, holder: 'desk-2', since: '2026-11-30T14:05:00Z', until: '2026-11-30T14:20:00Z', email: 'ava@x.test', state: 'accepted', candidates: ['North', 'Northgate'], contradicted: ['the status is a list'] } });
    out.push([`reason ${reason}`, errorText(e)]);
  }
  for (const kind of Object.keys(KINDS) as ConflictKind[]) out.push([`conflict ${kind}`, conflictText(conflict(kind))]);
  for (const p of Object.keys(PERMISSIONS) as Permission[]) out.push([`permission ${p}`, `${permissionName(p)} ${permissionAbout(p)}`]);
  for (const l of Object.keys(LEVELS) as Level[]) out.push([`level ${l}`, `${levelName(l)} ${levelAbout(l)} ${roleName(l)}`]);
  for (const f of Object.keys(FEATURES) as Feature[]) out.push([`feature ${f}`, featureName(f)]);
  for (const k of ['auditor', 'sync_operator', 'remote_synced']) out.push([`role ${k}`, `${roleName(k, k)} ${roleAbout(k)}`]);
  for (const s of ['PPK-C', 'PPK-D', 'PSK']) out.push([`site type ${s}`, siteTypeName(s)]);
  // Site Manager's own refusal, as a vendor writes it: its field names said as the desk's.
  const vendor = 'ActivationDateUTC must be before DeactivationDateUTC; FirstName is required';
  for (const state of ['rejected', 'pending'] as const) out.push([`outbox ${state}`, outboxWhy({ state, last_error: vendor } as Entry)]);
  out.push(['outbox rejected without words', outboxWhy({ state: 'rejected', last_error: null } as Entry)]);
  for (const a of ['resident.terminate', 'bulk.terminate-purge', 'access.grant', 'sign_in']) out.push([`audit ${a}`, auditActionName(a)]);
  out.push(['action reinstated (open-ended)', actionSaidText({ said: 'reinstated', name: 'Ava Reed', until: null })]);
  for (const why of Object.values(NOT_NOW)) out.push([`not now ${why.why}`, notNowText(why)]);
  out.push(['not now lines', notNowLines(Object.values(NOT_NOW).map((why) => ({ action: 'reset_wifi_key', available: false, why, worth_saying: true }))).join(' ')]);
  return out;
}

describe('plain words', () => {
  it('finds API names, snake_case ids and permission ids (the check itself)', () => {
    expect(technicalTerms('the access end (DeactivationDateUTC) must be after ActivationDateUTC')).toEqual(['DeactivationDateUTC', 'ActivationDateUTC']);
    expect(technicalTerms('TABLE-1 FEATURE manage_staff_users')).toEqual(['manage_staff_users']);
    expect(technicalTerms('Staff user lacks the permission staff.view (at team North)')).toEqual(['staff.view']);
    expect(technicalTerms('Email, Unit and Floor; write to sam.view@x.test or staff.viewer')).toEqual([]);
    expect(technicalTerms('Access end must be after access start.')).toEqual([]);
  });

  it('knows every permission and every resident field the core has', () => {
    expect([...PERMISSION_IDS].sort()).toEqual(Object.keys(PERMISSIONS).sort());
    for (const f of RESIDENT_FIELD_NAMES) expect(API_NAMES).toContain(f);
  });

  for (const [name, catalog] of Object.entries({ en, es }) as [string, Record<string, string>][]) {
    it(`has no technical term in any ${name} message`, () => {
      const found = Object.entries(catalog)
        .filter(([k]) => !(k in ALLOWED))
        .map(([k, v]) => [k, technicalTerms(withoutParameterNames(v))] as const)
        .filter(([, terms]) => terms.length > 0);
      expect(found).toEqual([]);
    });
  }

  for (const lang of ['en', 'es'] as Locale[]) {
    it(`says every code the core sends in plain ${lang}, with its parameters`, () => {
      setLocaleChoice(lang, false);
      for (const [what, text] of rendered()) {
        expect(text, what).not.toBe('');
        expect(text, what).not.toMatch(/[{}]/);
        expect(text, what).not.toMatch(/^(denial|said|resolved|rowCode|error|perm|level|feature|role|siteType|conflict)\./);
        expect(technicalTerms(text), `${what}: ${text}`).toEqual([]);
      }
    });
  }

  it('says a refusal in the person\'s language, not the core\'s English', () => {
    setLocaleChoice('es', false);
    expect(denialText(DENIALS.lacks)).toBe('Sus roles (Usuario de personal y Auditor) no incluyen los permisos Ver al personal y Exportar el registro de actividad, necesarios para ver al personal en el sitio Maple Court. Si lo necesita, pídaselo a un administrador de equipo.');
    const e = new ApiError({ code: 'permission_denied', message: 'denied: Staff users cannot manage staff users (at site Maple Court)', details: { reason: 'permission_missing', use_case: 'staff.list', permission: 'staff.view', denial: DENIALS.level_cannot } });
    expect(errorText(e)).toBe('Su rol (Usuario de personal) no le permite gestionar al personal en el sitio Maple Court. Si lo necesita, pídaselo a un administrador de equipo.');
    setLocaleChoice('en', false);
    expect(actionSaidText(ACTIONS.nothing_to_do)).toBe('Nothing to change: Ava Reed is current and pending.');
    expect(resolvedText(RESOLVED.kept)).toBe('Kept First name from this desk and Access end from Site Manager.');
    expect(conflictText(conflict('field'))).toBe('First name and Access start were changed both here and in Site Manager. Choose which value to keep.');
  });
});
