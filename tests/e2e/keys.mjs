// Keys pressed as a person presses them: W3C WebDriver actions (keyDown/keyUp), sent to
// whatever has the focus — no element is clicked or given a value.
export const KEY = {
  Tab: '\uE004',
  Enter: '\uE007',
  Shift: '\uE008',
  Control: '\uE009',
  Escape: '\uE00C',
  Space: '\uE00D',
  PageUp: '\uE00E',
  PageDown: '\uE00F',
  End: '\uE010',
  Home: '\uE011',
  ArrowUp: '\uE013',
  ArrowDown: '\uE015',
  Backspace: '\uE003',
  F5: '\uE035',
};

/** Presses `key` (a character or a KEY value) with `mods` held (KEY.Control, KEY.Shift). */
export async function press(s, key, mods = []) {
  const actions = [
    ...mods.map((m) => ({ type: 'keyDown', value: m })),
    { type: 'keyDown', value: key },
    { type: 'keyUp', value: key },
    ...[...mods].reverse().map((m) => ({ type: 'keyUp', value: m })),
  ];
  await s.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
}

/** Types `text` into whatever has the focus, one key after another. */
export async function typeKeys(s, text) {
  const actions = [...text].flatMap((c) => [
    { type: 'keyDown', value: c },
    { type: 'keyUp', value: c },
  ]);
  await s.cmd('POST', '/actions', { actions: [{ type: 'key', id: 'keyboard', actions }] });
}

/** A short description of the focused element (for assertions and their messages). */
export function focused(s) {
  return s.exec(
    `const a = document.activeElement;
     if (!a || a === document.body) return 'body';
     const d = a.closest('dialog[open]');
     return [a.tagName.toLowerCase(), a.dataset.testid ?? '', a.getAttribute('name') ?? '', a.closest('[aria-rowindex]')?.getAttribute('aria-rowindex') ?? '', d ? 'in:' + (d.dataset.testid ?? d.getAttribute('aria-labelledby')) : ''].join('|');`,
  );
}
