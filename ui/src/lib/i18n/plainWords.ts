//! The check that a text shown to a person speaks plainly: no Site Manager API field name
//! (PascalCase, e.g. `ActivationDateUTC`), no snake_case id (`manage_staff_users`) and no
//! permission id (`staff.view`). The catalog tests apply it to every message and to every
//! coded core message rendered with sample parameters; the end-to-end test applies the same
//! list (technical-terms.json) to the visible text of the main screens.
import terms from './technical-terms.json';

// Single words ("Email", "Unit") are API names and plain English at once: only the
// compound ones betray an API.
const API = terms.api_names.filter((n) => !terms.plain_words_too.includes(n));
const API_RE = new RegExp(`\\b(${API.join('|')})\\b`, 'g');
const SNAKE_RE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g;
const PERM_RE = new RegExp(`(?<![\\w.@])(${terms.permissions.map((p) => p.replace('.', '\\.')).join('|')})(?![\\w.])`, 'g');

/** The technical terms in `text` (empty when it speaks plainly). */
export function technicalTerms(text: string): string[] {
  return [...text.matchAll(API_RE), ...text.matchAll(SNAKE_RE), ...text.matchAll(PERM_RE)].map((m) => m[0]);
}

export const PERMISSION_IDS: readonly string[] = terms.permissions;
export const API_NAMES: readonly string[] = terms.api_names;
