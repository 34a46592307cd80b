// One main status per resident and what each person's menu holds (issue #18), in one app
// start on a database of its own (demo seeded by the CLI, three residents changed offline by
// the CLI): rows say Ended / Suspended / Active with the "waiting to sync" marker, the legend
// explains them, the status filter keeps only the main status chosen, a bulk suspend over
// rows some of which cannot be suspended says so before Apply and shows its result in a panel;
// a Team administrator's menu has the Administration group, a Staff user's has none, and the
// Staff user reads Settings as text. Screenshots s01–s07.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, systemLookAndLanguage } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'status');
const DB = join(DIR, 'desk.db');
const CLI = join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'residentdesk');

/** The CLI as the Team administrator, its JSON answer. */
function cli(...args) {
  const out = execFileSync(CLI, ['--db', DB, '--as', accounts.team_admin.email, '--json', ...args], {
    env: { ...process.env, RESIDENTDESK_PASSWORD: accounts.team_admin.password },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

let ended, suspended, edited, siteId;
before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync(CLI, ['--db', DB, 'demo', 'seed', '--residents', '200'], { stdio: 'ignore' });
  const active = cli('resident', 'list', '--all', '--status', 'active').residents.filter((r) => !r.markers.length);
  siteId = active[0].site_id;
  [ended, suspended, edited] = active.filter((r) => r.site_id === siteId).slice(0, 3);
  assert.ok(edited, 'three active residents at one site');
  cli('resident', 'terminate', ended.email);
  cli('resident', 'suspend', suspended.email);
  cli('resident', 'update', edited.email, '--phone', '555-0199');
  await startDriver();
});
after(stopDriver);

/** The status cell of the row found by searching `email`: its main status and markers. */
async function statusOf(s, email) {
  await s.search(email);
  await s.waitForContent('[data-testid="count"]', 'one row', (t) => /\b1\b/.test(t));
  return s.exec(
    `const c = document.querySelector('[data-testid="resident-row"] .c-status');
     return { main: c.querySelector('[data-status]')?.dataset.status, text: c.innerText,
              markers: [...c.querySelectorAll('[data-marker]')].map((m) => m.dataset.marker),
              hover: [...c.querySelectorAll('[title]')].map((m) => m.title) };`,
  );
}

/** Waits until `script` (returning a boolean) holds in the page; the error names `what`. */
async function until(s, what, script, timeout = 15000) {
  const end = Date.now() + timeout;
  while (Date.now() < end) {
    if (await s.exec(script).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const navIds = (s) => s.exec(`return [...document.querySelectorAll('nav [data-testid^="nav-"]')].map((n) => n.dataset.testid.slice(4));`);

test('main status and markers, filter, bulk preview and result, menus by ability, read-only settings', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    await systemLookAndLanguage(s);
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.choose('[data-testid="site-select"]', String(siteId));
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });

    // One word per row, markers beside it, meanings on hover.
    const e = await statusOf(s, ended.email);
    assert.equal(e.main, 'ended', JSON.stringify(e));
    assert.match(e.text, /Ended/);
    const su = await statusOf(s, suspended.email);
    assert.equal(su.main, 'suspended', JSON.stringify(su));
    const ed = await statusOf(s, edited.email);
    assert.equal(ed.main, 'active', JSON.stringify(ed));
    assert.ok(ed.markers.includes('waiting_to_sync'), `edited offline → waiting to sync: ${JSON.stringify(ed)}`);
    assert.ok(ed.hover.some((h) => /^Waiting to sync: .*has not reached Site Manager yet/.test(h)), ed.hover.join(' | '));

    // The legend, light and dark.
    await s.search('');
    await s.click('[data-testid="status-legend"] summary');
    const legend = await s.textOf('[data-testid="status-legend"]');
    for (const word of ['Scheduled', 'Active', 'Suspended', 'Ended', 'Invitation not accepted', 'Waiting to sync', 'In conflict']) {
      assert.ok(legend.includes(word), `the legend names ${word}`);
    }
    await s.screenshot('s01-residents-legend-light');
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-theme"]', 'dark');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.click('[data-testid="status-legend"] summary');
    await s.screenshot('s02-residents-legend-dark');
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-theme"]', 'light');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });

    // The filter keeps exactly the main status chosen.
    await s.choose('[data-testid="status-filter"]', 'ended');
    await until(s, 'ended rows only', `const r = [...document.querySelectorAll('[data-testid="resident-row"] [data-status]')]; return r.length > 0 && r.every((c) => c.dataset.status === 'ended');`);
    await s.choose('[data-testid="status-filter"]', 'waiting_to_sync');
    await until(s, 'the three changed rows, all waiting', `const r = [...document.querySelectorAll('[data-testid="resident-row"] .c-status')]; return r.length >= 3 && r.every((c) => c.querySelector('[data-marker="waiting_to_sync"]'));`);
    await s.choose('[data-testid="status-filter"]', '');

    // Bulk: the ended and the suspended one, and three active ones (onboarded or not).
    for (const r of [ended, suspended]) {
      await s.search(r.email);
      await s.waitForContent('[data-testid="count"]', 'one row', (t) => /\b1\b/.test(t));
      await s.click('[data-testid="resident-row"] .c-check input');
    }
    await s.search('');
    await s.choose('[data-testid="status-filter"]', 'active');
    await until(s, 'active rows only', `const r = [...document.querySelectorAll('[data-testid="resident-row"] [data-status]')]; return r.length > 3 && r.every((c) => c.dataset.status === 'active');`);
    // Three active rows without a marker (onboarded, nothing unsent): all three can be suspended.
    await s.exec(`[...document.querySelectorAll('[data-testid="resident-row"]')].filter((r) => !r.querySelector('[data-marker]')).slice(0, 3).forEach((r) => r.querySelector('.c-check input').click()); return true;`);
    await s.choose('[data-testid="bulk-action"]', 'suspend');
    await s.waitFor('[data-testid="bulk-preview"]', { text: 'of 5 selected can be suspended' });
    const preview = await s.textOf('[data-testid="bulk-preview"]');
    assert.match(preview, /1 has already ended/, preview);
    assert.match(preview, /1 is already suspended/, preview);
    const can = Number(preview.match(/(\d+) of 5 selected/)[1]);
    assert.equal(can, 3, preview);
    assert.match(await s.textOf('[data-testid="bulk-apply"]'), new RegExp(`Suspend ${can} resident`));
    await s.screenshot('s03-bulk-preview');
    await s.click('[data-testid="bulk-apply"]');
    await s.waitFor('[data-testid="bulk-result"]', { timeout: 20000 });
    const result = await s.textOf('[data-testid="bulk-result"]');
    assert.match(result, new RegExp(`Suspend: ${can} of 5 done`), result);
    assert.equal((await s.findAll('[data-testid="notice"][data-kind="error"]')).length, 0, 'a partial success is not an error');
    await s.screenshot('s04-bulk-result');
    await s.click('[data-testid="bulk-result-close"]');

    // A Team administrator's menu: everyday screens, then Administration.
    const adminNav = await navIds(s);
    assert.ok(await s.find('[data-testid="nav-admin"]'), 'the Administration heading');
    for (const id of ['staff', 'roles', 'tokens', 'explain', 'audit']) assert.ok(adminNav.includes(id), `${id} in ${adminNav}`);
    assert.ok(adminNav.indexOf('settings') < adminNav.indexOf('staff'), `everyday screens first: ${adminNav}`);
    await s.screenshot('s05-menu-team-admin');

    // A Staff user's: no administration at all, Settings as text.
    await s.click('[data-testid="sign-out"]');
    await signIn(s, accounts.staff_user);
    await s.waitFor('[data-testid="nav-residents"]');
    const staffNav = await navIds(s);
    assert.deepEqual(staffNav.filter((id) => ['staff', 'roles', 'tokens', 'explain', 'audit', 'invitations'].includes(id)), [], `${staffNav}`);
    assert.equal((await s.findAll('[data-testid="nav-admin"]')).length, 0, 'no Administration heading');
    assert.ok(staffNav.includes('settings') && staffNav.includes('residents'), `${staffNav}`);
    await s.screenshot('s06-menu-staff');
    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('[data-testid="settings-readonly"]');
    assert.equal((await s.findAll('[data-testid="settings-readonly"] input')).length, 0, 'text, not a disabled form');
    assert.match(await s.textOf('[data-testid="settings-readonly"]'), /API address/);
    assert.match(await s.textOf('[data-testid="settings-reason"]'), /Ask a Team administrator/);
    const size = await s.exec(`return parseFloat(getComputedStyle(document.querySelector('[data-testid="settings-reason"]')).fontSize);`);
    assert.ok(size >= 12, `the line is readable: ${size}px`);
    await s.screenshot('s07-settings-read-only');
  } finally {
    await s.end();
  }
});
