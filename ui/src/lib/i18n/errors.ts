//! The core's errors in the person's language. An error that carries a refusal of access
//! (`details.denial`), a reason code (`details.reason`) or a broken rule (`details.rule`, with
//! its parameters) is said by the catalog; one that carries none keeps the core's English
//! text, the only fallback. Gates (an action offered disabled, with why) say their refusal
//! the same way.
import { ApiError } from '../api/ipc';
import type { ErrorDetails } from '../api/bindings/ErrorDetails';
import type { ErrorReason } from '../api/bindings/ErrorReason';
import type { RowProblem } from '../api/bindings/RowProblem';
import type { FieldProblem } from '../api/bindings/FieldProblem';
import type { RuleError } from '../api/bindings/RuleError';
import type { Undoable } from '../api/bindings/Undoable';
import { fieldLabel } from '../residentFields';
import type { MessageKey } from './en';
import { t, tValue } from './locale.svelte';
import { dateTime, time } from './intl';
import { denialText, rowCodeText, siteTypeName } from './glossary';

/** Every reason code the core sends, with its message: a reason added to the Rust enum fails
 * `npm run check` until it is given one. */
const REASONS: Record<ErrorReason, MessageKey> = {
  backup_refused: 'error.reason.backup_refused',
  backup_not_written: 'error.reason.backup_not_written',
  sync_busy: 'error.reason.sync_busy',
  permission_missing: 'error.reason.permission_missing',
  ambiguous: 'error.reason.ambiguous',
  assumptions_contradicted: 'error.reason.assumptions_contradicted',
  db_busy: 'error.reason.db_busy',
  key_missing: 'error.reason.key_missing',
  key_wrong: 'error.reason.key_wrong',
  keyring_failed: 'error.reason.keyring_failed',
  session_locked: 'error.reason.session_locked',
  sign_in_locked: 'error.reason.sign_in_locked',
  invitation_pending: 'error.reason.invitation_pending',
  invitation_not_pending: 'error.reason.invitation_not_pending',
  invitation_too_soon: 'error.reason.invitation_too_soon',
  invitation_unknown: 'error.reason.invitation_unknown',
  invitation_used: 'error.reason.invitation_used',
  invitation_expired: 'error.reason.invitation_expired',
  invitation_inviter_lacks: 'error.reason.invitation_inviter_lacks',
  password_change_required: 'error.reason.password_change_required',
  password_expired: 'error.reason.password_expired',
  db_damaged: 'error.reason.db_damaged',
};

/** The action a lifecycle rule refused, as the core names it, in the person's language. */
const RULE_ACTIONS: Record<string, MessageKey> = {
  'resending an invitation': 'ruleAction.resend',
  'resetting the Wi-Fi key': 'ruleAction.wifiKey',
};
const ruleAction = (a: string): string => (a in RULE_ACTIONS ? t(RULE_ACTIONS[a]) : a);

/** What to do instead of an undo that came too late (the change was sent). */
const INSTEAD: Record<Undoable, MessageKey> = {
  suspend: 'undo.instead.suspend',
  unsuspend: 'undo.instead.unsuspend',
  terminate: 'undo.instead.terminate',
};

/** A broken rule in words, with its parameters (field names as the form labels them). */
export function ruleText(r: RuleError): string {
  switch (r.rule) {
    case 'required':
      return t('error.rule.required', { field: fieldLabel(r.field) });
    case 'invalid':
      // The coded reason in the person's language; the core's English only where no code says it.
      if (r.why) return t(`error.invalid.${r.why.why}`, { field: fieldLabel(r.field), max: 'max' in r.why ? r.why.max : 0 });
      return t('error.rule.invalid', { field: fieldLabel(r.field), reason: r.reason });
    case 'email_taken':
      return t('error.rule.email_taken', { email: r.email });
    case 'email_immutable':
      return t('error.rule.email_immutable');
    case 'not_a_mapping':
      return t('error.rule.not_a_mapping', { building: r.building, floor: r.floor, unit: r.unit });
    case 'unit_occupied':
      return t('error.rule.unit_occupied', { unit: r.unit, occupant: r.occupant });
    case 'end_before_start':
      return t('error.rule.end_before_start');
    case 'purge_expired':
      return t('error.rule.purge_expired');
    case 'expired':
      return t('error.rule.expired', { action: ruleAction(r.action) });
    case 'not_started':
      return t('error.rule.not_started', { action: ruleAction(r.action) });
    case 'not_scheduled':
      return t('error.rule.not_scheduled', { status: r.status });
    case 'psk_reset_not_allowed':
      return t('error.rule.psk_reset_not_allowed', { site_type: siteTypeName(r.site_type) });
    case 'bad_status_change':
      return t('error.rule.bad_status_change', { given: r.given });
    case 'bad_bulk_action':
      return t('error.rule.bad_bulk_action', { given: r.given });
    case 'not_ended':
      return t('error.rule.not_ended');
    case 'grace_over':
      return t('error.rule.grace_over');
    case 'undo_too_late':
      return t('error.rule.undo_too_late', { instead: t(INSTEAD[r.change]) });
    case 'undo_changed_since':
      return t('error.rule.undo_changed_since');
    case 'already_undone':
      return t('error.rule.already_undone');
    case 'nothing_to_undo':
      return t('error.rule.nothing_to_undo');
    default:
      return '';
  }
}

/** The text of an error of a command, translated where the core gave a code. */
export function apiErrorText(e: ApiError): string {
  const d = e.details;
  if (d?.denial) return denialText(d.denial);
  const reason = d?.reason;
  if (reason && REASONS[reason]) {
    return t(REASONS[reason], {
      holder: d?.holder ?? '',
      since: d?.since ? time(d.since) : '',
      until: d?.until ? time(d.until) : '',
      untilDate: d?.until ? dateTime(d.until) : '',
      email: d?.email ?? '',
      state: d?.state ? tValue('inv.state.', d.state) : '',
      use_case: d?.use_case ?? '',
      permission: d?.permission ?? '',
      candidates: (d?.candidates ?? []).join(', '),
      contradicted: (d?.contradicted ?? []).join(', '),
      count: (d?.contradicted ?? []).length,
    });
  }
  const rule = e.rule;
  if (rule) return ruleText(rule) || e.message;
  return e.message;
}

/** One field problem in words: the rule's message, or the core's text. */
export function problemText(p: FieldProblem): string {
  return (p.rule && ruleText(p.rule)) || p.message;
}

/** One import row problem in words: the rule's or the row code's message, or the core's text. */
export function rowProblemText(p: RowProblem): string {
  return (p.rule && ruleText(p.rule)) || (p.code && rowCodeText(p.code, p.message)) || p.message;
}

/** A core error's reason code in words (no parameters). */
export function reasonText(reason: ErrorReason): string {
  return t(REASONS[reason], { holder: '', since: '', until: '', untilDate: '', email: '', state: '', use_case: '', permission: '', candidates: '', contradicted: '', count: 0 });
}

/** Why an action is refused, from a gate's English reason and its details (the same
 * details as the error the action itself would raise), in the person's language. */
export function refusalText(reason: string, details?: ErrorDetails | null): string {
  const english = reason.replace(/^denied: /, '');
  if (!details) return english;
  return apiErrorText(new ApiError({ code: 'permission_denied', message: english, details }));
}

/** Whatever a command or the page threw, as text for the person. */
export function errorText(e: unknown): string {
  return e instanceof ApiError ? apiErrorText(e) : e instanceof Error ? e.message : String(e);
}
