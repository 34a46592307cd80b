// Accessibility checked in the real webview (issue 16): axe-core runs on every screen — the
// first run, the sign-in, each screen of the sidebar as a Team administrator (who may open
// them all), the resident detail and form and the shortcut help — in the light and the dark
// theme, and fails on any `serious` or `critical` violation, naming the rule and the elements.
// A screenshot of each: a11y-<screen>-<theme>.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session, startDriver, stopDriver, signIn, accounts, systemLookAndLanguage } from './webdriver.mjs';
import { axeViolations } from './axe.mjs';
import { press, KEY } from './keys.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'a11y');
const DB = join(DIR, 'desk.db');
const SCREENS = ['residents', 'sites', 'import', 'outbox', 'conflicts', 'staff', 'roles', 'invitations', 'tokens', 'explain', 'audit', 'settings'];
// The page background of each palette (app.css --bg), to know which theme is painted.
const BACKGROUND = { light: 'rgb(245, 247, 250)', dark: 'rgb(18, 22, 28)' };

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

test('axe: no serious or critical violation on any screen, in the light and the dark theme', async () => {
  const s = await Session.start(['--db', DB]);
  const found = [];
  const checked = [];
  async function check(screen, theme) {
    const bg = await s.exec('return getComputedStyle(document.documentElement).backgroundColor;');
    assert.equal(bg, BACKGROUND[theme], `${screen} is painted in the ${theme} theme`);
    const v = await axeViolations(s);
    if (v.length) found.push(`${screen} (${theme}):\n    ${v.join('\n    ')}`);
    checked.push(`${screen}-${theme}`);
    await s.screenshot(`a11y-${screen}-${theme}`);
  }
  async function openScreen(id) {
    await s.click(`[data-testid="nav-${id}"]`);
    await s.waitFor(`[data-testid="nav-${id}"][aria-current="page"]`);
    await s.waitFor('main h1');
    // What the screen loads (lists, settings) arrives a moment after its heading.
    // (A screen still saying so after the wait is checked as it is.)
    await s.waitForContent('main', 'its content loaded', (t) => !/Loading|Checking…/.test(t), { timeout: 10000 }).catch(() => {});
    await sleep(300);
  }
  try {
    await systemLookAndLanguage(s);
    // The first run, in both palettes (Settings cannot be reached yet: the palette is put
    // on the page as Settings' override does, data-theme on <html>).
    await s.waitFor('[data-testid="seed-demo"]');
    await check('first-run', 'light');
    await s.exec("document.documentElement.dataset.theme = 'dark'; return true;");
    await check('first-run', 'dark');
    await s.exec('delete document.documentElement.dataset.theme; return true;');

    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    await check('sign-in', 'light');
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });

    for (const theme of ['light', 'dark']) {
      if (theme === 'dark') {
        await openScreen('settings');
        await s.choose('[data-testid="settings-theme"]', 'dark');
      }
      for (const screen of SCREENS) {
        await openScreen(screen);
        await check(screen, theme);
      }
      // The dialogs over the list: a resident's detail, the form on top of it, the help.
      await openScreen('residents');
      await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
      await s.click('[data-testid="open-resident"]');
      await s.waitFor('dialog[open] [data-testid="resident-detail"]');
      await check('resident-detail', theme);
      await s.click('[data-testid="edit-resident"]');
      await s.waitFor('dialog[open] [data-testid="resident-form"]');
      await check('resident-form', theme);
      await press(s, KEY.Escape);
      await press(s, KEY.Escape);
      for (let i = 0; i < 50 && (await s.exec('return document.querySelector("dialog[open]") !== null;')); i++) await sleep(100);
      await s.click('[data-testid="search"]');
      await s.exec('document.activeElement.blur(); return true;');
      await press(s, '?');
      await s.waitFor('dialog[open][data-testid="shortcut-help"]');
      await check('shortcut-help', theme);
      await press(s, KEY.Escape);
    }
    // Signed out, the override stays: the sign-in screen in the dark theme.
    await s.exec("[...document.querySelectorAll('header button')].find((b) => b.textContent.trim() === 'Sign out').click(); return true;");
    await s.waitFor('#signin');
    await check('sign-in', 'dark');
  } finally {
    // The override would outlive this test (localStorage is the user's, not the database's).
    await s.exec("localStorage.removeItem('residentdesk.theme'); return true;").catch(() => {});
    await s.end();
  }
  console.log(`axe checked ${checked.length} views: ${checked.join(', ')}`);
  assert.deepEqual(found, [], `serious or critical axe violations:\n${found.join('\n')}`);
});
