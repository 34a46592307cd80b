//! The letter to a new staff member, in the person's language: who invites them, to which
//! team, as what, at which sites, the invitation code and until when. The core gives its
//! parts (`InvitationLetter`); no command line and no raw token are ever part of it.
import type { InvitationLetter } from '../api/bindings/InvitationLetter';
import { levelName, list } from './glossary';
import { dateTime } from './intl';
import { t } from './locale.svelte';

/** The whole letter, ready to paste into an email or a chat. */
export function letterText(l: InvitationLetter): string {
  const roles = list([levelName(l.base), ...l.addons]);
  const sites = l.all_sites ? t('inv.letter.allSites') : list(l.sites);
  return [
    l.name ? t('inv.letter.hello', { name: l.name }) : t('inv.letter.helloNoName'),
    t('inv.letter.invites', { inviter: l.inviter, team: l.team, roles, sites }),
    t('inv.letter.howTo'),
    `    ${l.code}`,
    t('inv.letter.password'),
    t('inv.letter.expires', { email: l.email, date: dateTime(l.expires_at) }),
  ].join('\n\n');
}
