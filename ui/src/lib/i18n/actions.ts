//! A resident's actions in the person's language: each action's name (the glossary's words:
//! "Reset Wi-Fi key", "Delete permanently") and why one does not apply now, from the core's
//! codes (`ResidentActions`: the state rules and the role matrix decide, never this file).
import type { ActionState } from '../api/bindings/ActionState';
import type { NotNow } from '../api/bindings/NotNow';
import type { ResidentAction } from '../api/bindings/ResidentAction';
import type { MessageKey } from './en';
import { t } from './locale.svelte';
import { day } from './intl';
import { list, siteTypeName } from './glossary';

const NAMES: Record<ResidentAction, MessageKey> = {
  edit: 'actions.edit',
  suspend: 'actions.suspend',
  unsuspend: 'actions.unsuspend',
  terminate: 'actions.terminate',
  reinstate: 'actions.reinstate',
  resend_invitation: 'actions.resendInvitation',
  reset_wifi_key: 'actions.resetWifiKey',
  delete_permanently: 'actions.deletePermanently',
};

/** The action's name on its button (resend says what it sends). */
export function actionName(a: Pick<ActionState, 'action' | 'sends'>): string {
  if (a.action === 'resend_invitation' && a.sends === 'wifi_details') return t('actions.sendWifiDetails');
  return t(NAMES[a.action]);
}

/** Why an action does not apply now, as the end of a sentence. */
export function notNowText(why: NotNow): string {
  switch (why.why) {
    case 'not_permitted':
      return t('actions.why.not_permitted');
    case 'ended':
      return t('actions.why.ended');
    case 'not_started':
      return t('actions.why.not_started', { day: day(why.day) });
    case 'not_accepted':
      return t('actions.why.not_accepted');
    case 'already_suspended':
      return t('actions.why.already_suspended');
    case 'not_suspended':
      return t('actions.why.not_suspended');
    case 'not_ended':
      return t('actions.why.not_ended');
    case 'grace_over':
      return t('actions.why.grace_over');
    case 'no_personal_keys':
      return t('actions.why.no_personal_keys', { site_type: siteTypeName(why.site_type) });
    case 'removed_automatically':
      return t('actions.why.removed_automatically', { day: day(why.day) });
    default: {
      const never: never = why;
      return String(never);
    }
  }
}

/** The lines a person reads for the actions that do not apply now and that they would look
 * for (`worth_saying`): one line per reason, naming the actions it holds back. */
export function notNowLines(states: ActionState[]): string[] {
  const byReason = new Map<string, { why: NotNow; names: string[] }>();
  for (const s of states) {
    if (s.available || !s.worth_saying || !s.why) continue;
    const key = JSON.stringify(s.why);
    const entry = byReason.get(key) ?? { why: s.why, names: [] };
    entry.names.push(actionName(s));
    byReason.set(key, entry);
  }
  return [...byReason.values()].map((r) => t('actions.notNow', { actions: list(r.names), reason: notNowText(r.why) }));
}
