//! The person's language: chosen from the OS (WebKitGTK hands LANG/LANGUAGE to
//! `navigator.languages`) unless overridden in Settings, and `t()`, which every screen calls
//! for every string it shows. The locale is a rune, so a template that called `t()` repaints
//! when the language changes (at once, no reload).
import { en, type MessageKey } from './en';
import { es } from './es';
import { format, type Params } from './format';

export type Locale = 'en' | 'es';
/** What Settings offers: the OS's language, or one chosen. */
export type LocaleChoice = 'system' | Locale;

export const CATALOGS: Record<Locale, Record<MessageKey, string>> = { en, es };
export const LOCALES: readonly Locale[] = ['en', 'es'];

const STORE_KEY = 'residentdesk.locale';

/** Spanish for any `es*` language first listed by the OS, English otherwise. */
export function localeFrom(languages: readonly string[]): Locale {
  const first = languages.find((l) => l.trim() !== '');
  return first && /^es\b|^es[-_]/i.test(first.trim()) ? 'es' : 'en';
}

function osLanguages(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  return navigator.languages?.length ? navigator.languages : [navigator.language];
}

function storedChoice(): LocaleChoice {
  try {
    const v = globalThis.localStorage?.getItem(STORE_KEY);
    return v === 'en' || v === 'es' ? v : 'system';
  } catch {
    return 'system';
  }
}

const state = $state<{ choice: LocaleChoice; locale: Locale }>({ choice: 'system', locale: 'en' });

/** Reads the stored choice and the OS language (at start-up). */
export function initLocale(): void {
  setLocaleChoice(storedChoice(), false);
}

/** Applies a choice at once, and remembers it on this desk (localStorage) when `remember`. */
export function setLocaleChoice(choice: LocaleChoice, remember = true): void {
  state.choice = choice;
  state.locale = choice === 'system' ? localeFrom(osLanguages()) : choice;
  if (typeof document !== 'undefined') document.documentElement.lang = state.locale;
  if (!remember) return;
  try {
    if (choice === 'system') globalThis.localStorage?.removeItem(STORE_KEY);
    else globalThis.localStorage?.setItem(STORE_KEY, choice);
  } catch {
    // A webview without storage: the choice holds until the window closes.
  }
}

export function localeChoice(): LocaleChoice {
  return state.choice;
}

/** The locale every string and number is shown in now. */
export function locale(): Locale {
  return state.locale;
}

/** The message `key` in the current language, with its parameters put in. */
export function t(key: MessageKey, params?: Params): string {
  const loc = state.locale;
  return format(CATALOGS[loc][key] ?? en[key], params, loc);
}

/** Whether `key` is a message (for keys built from a value the core sends, e.g. a state). */
export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/** The message `prefix + value` when the catalog has it, else the value as the core sent it. */
export function tValue(prefix: string, value: string): string {
  const key = prefix + value;
  return isMessageKey(key) ? t(key) : value;
}
