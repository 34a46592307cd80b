// Undo while unsent: after a suspend, unsuspend or terminate (single or bulk) the success
// notice carries an "Undo" button for as long as it stays (lib/notices.ts, ACTION_MS). The
// core decides whether the change can still be taken back (not sent yet, nothing changed
// since); when it cannot, its refusal says what to do instead (Reinstate, Unsuspend).
import { api } from './api';
import type { ResidentView } from './api/bindings/ResidentView';
import type { UndoHandle } from './api/bindings/UndoHandle';
import { notices, errorText } from './stores';
import { t } from './i18n/locale.svelte';

/** Shows `text` as a success notice with an Undo button for the change of `handle` (a plain
 * notice when there is nothing to undo); `onUndone` gets the residents as they are after. */
export function noticeWithUndo(text: string, handle: UndoHandle | undefined, onUndone: (residents: ResidentView[]) => void) {
  if (!handle) {
    notices.push('ok', () => text);
    return;
  }
  notices.push('ok', () => text, undefined, {
    label: t('undo.button'),
    run: async () => {
      try {
        const outcome = await api.residentUndo(handle);
        notices.push('ok', () => t('undo.done', { count: outcome.undone }));
        onUndone(outcome.residents);
      } catch (e) {
        notices.push('error', () => errorText(e));
      }
    },
  });
}
