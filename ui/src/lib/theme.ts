//! Light or dark: the OS's choice (`prefers-color-scheme`, which WebKitGTK takes from the GTK
//! theme) unless Settings overrides it on this desk. The override is the `data-theme`
//! attribute on <html>, which app.css reads; the colours themselves live only in app.css.

export type ThemeChoice = 'system' | 'light' | 'dark';

const STORE_KEY = 'residentdesk.theme';

export function storedTheme(): ThemeChoice {
  try {
    const v = globalThis.localStorage?.getItem(STORE_KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

/** Applies a choice at once (no reload), and remembers it on this desk when `remember`. */
export function applyTheme(choice: ThemeChoice, remember = true): void {
  if (typeof document !== 'undefined') {
    if (choice === 'system') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = choice;
  }
  if (!remember) return;
  try {
    if (choice === 'system') globalThis.localStorage?.removeItem(STORE_KEY);
    else globalThis.localStorage?.setItem(STORE_KEY, choice);
  } catch {
    // A webview without storage: the choice holds until the window closes.
  }
}
