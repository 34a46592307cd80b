// Issue #16 in the real webview: the Sites overview's pictures carry the core's numbers
// (`site overview`, light and dark), the sync bar's per-site panel, progress bars that reach
// their totals on an export and a bulk action, and a saved view that survives an app restart.
// One demo database with a big site (3,000 residents), built first by the CLI. Screenshots
// o01-o08.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, answerDialog } from './webdriver.mjs';

const DIR = resolve(join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'overview'));
const DB = join(DIR, 'desk.db');
const BIG = 3000;
// The CLI of the core's target directory (CARGO_TARGET_DIR when the run sets one).
const CLI = join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'residentdesk');

/** The CLI on the test's database as `who`, its JSON answer. */
function cli(who, args) {
  const env = { ...process.env, RESIDENTDESK_PASSWORD: who.password };
  // The harness names the suite's own database in RESIDENTDESK_DB; no token signs in.
  delete env.RESIDENTDESK_DB;
  delete env.RESIDENTDESK_TOKEN;
  const out = execFileSync(CLI, ['--db', DB, '--json', '--as', who.email, ...args], { env, encoding: 'utf8' });
  return JSON.parse(out);
}

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync(CLI, ['--db', DB, 'demo', 'seed', '--residents', '600', '--big-site', String(BIG)], { stdio: 'ignore' });
  await startDriver();
});
after(stopDriver);

/** The app in English and the light theme whatever an earlier run left in the webview's
 * storage (the language and theme overrides live there), then the sign-in screen. */
async function start() {
  const s = await Session.start(['--db', DB]);
  await s.exec("localStorage.setItem('residentdesk.locale', 'en'); localStorage.setItem('residentdesk.theme', 'light'); window.__before = 1; location.reload();");
  for (let i = 0; i < 300; i++) {
    const fresh = await s.exec("return window.__before === undefined && document.querySelector('#signin') !== null;").catch(() => false);
    if (fresh) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the app did not come back after the reload');
}

/** Records every value a progress bar (`css` … [role=progressbar]) shows, from the moment it
 * is installed: a MutationObserver in the page, read back with `progressSeen`. */
async function watchProgress(s, css) {
  await s.exec(
    `const css = arguments[0] + ' [role="progressbar"]';
     window.__seen = window.__seen || {};
     const seen = (window.__seen[arguments[0]] = []);
     const note = () => {
       const bar = document.querySelector(css);
       if (!bar) return;
       const v = [Number(bar.getAttribute('aria-valuenow')), Number(bar.getAttribute('aria-valuemax'))];
       const last = seen[seen.length - 1];
       if (!last || last[0] !== v[0] || last[1] !== v[1]) seen.push(v);
     };
     new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'aria-valuemax'] });`,
    [css],
  );
}
const progressSeen = (s, css) => s.exec('return (window.__seen || {})[arguments[0]] || [];', [css]);

/** Waits until the recorded values of a progress bar reach `total`. */
async function waitProgress(s, css, total) {
  for (let i = 0; i < 1200; i++) {
    const seen = await progressSeen(s, css);
    if (seen.some(([now, max]) => now === total && max === total)) return seen;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${css} never reached ${total}: ${JSON.stringify(await progressSeen(s, css))}`);
}

test('Sites pictures, the per-site sync panel, and progress on an export and a bulk action', async () => {
  const expected = cli(accounts.owner, ['site', 'overview']).sites;
  assert.ok(expected.length >= 2, JSON.stringify(expected));
  const s = await start();
  try {
    await signIn(s, accounts.owner);
    await s.click('[data-testid="nav-sites"]');
    await s.waitFor('[data-testid="site-row"] [data-testid="status-bar"] rect');
    // Every site's bars carry the core's numbers, and say them in words.
    const shown = await s.exec(`return [...document.querySelectorAll('[data-testid="site-row"]')].map((row) => ({
      name: row.dataset.site,
      parts: Object.fromEntries([...row.querySelectorAll('[data-testid="status-bar"] rect[data-status]')].map((r) => [r.dataset.status, Number(r.dataset.count)])),
      label: row.querySelector('[data-testid="status-bar"]').getAttribute('aria-label'),
      units: Number(row.querySelector('[data-testid="units-bar"]').dataset.units),
      occupied: Number(row.querySelector('[data-testid="units-bar"]').dataset.occupied),
      unitsLabel: row.querySelector('[data-testid="units-bar"]').getAttribute('aria-label'),
      widths: [...row.querySelectorAll('[data-testid="status-bar"] rect[data-status]')].reduce((w, r) => w + Number(r.getAttribute('width')), 0),
    }));`);
    assert.deepEqual(shown.map((x) => x.name), expected.map((x) => x.name), 'one card per site, in the core order');
    for (const site of expected) {
      const got = shown.find((x) => x.name === site.name);
      const want = Object.fromEntries(Object.entries(site.residents).filter(([, n]) => n > 0));
      assert.deepEqual(got.parts, want, `${site.name}: residents by status`);
      const total = Object.values(want).reduce((a, b) => a + b, 0);
      if (total > 0) {
        assert.ok(Math.abs(got.widths - 100) < 0.01, `${site.name}: the parts fill the bar (${got.widths})`);
        assert.match(got.label, new RegExp(`^Residents at ${site.name}: .*\\(${total.toLocaleString('en-US')} in all\\)$`), got.label);
        for (const [part, n] of Object.entries(want)) assert.ok(got.label.includes(`${n.toLocaleString('en-US')} ${part}`), `${got.label} says ${n} ${part}`);
      }
      assert.deepEqual([got.units, got.occupied], [site.units, site.units_occupied], `${site.name}: units`);
      if (site.units > 0) assert.ok(got.unitsLabel.includes(`of ${site.units.toLocaleString('en-US')} units occupied`), got.unitsLabel);
    }
    assert.ok(shown.some((x) => Object.keys(x.parts).length > 1), 'some site has a bar of several parts');
    await s.screenshot('o01-sites-light');

    // The sync bar's per-site panel lists every site with its sync state.
    await s.click('[data-testid="sync-sites-open"]');
    await s.waitFor('[data-testid="sync-site-row"]');
    const rows = await s.exec(`return document.querySelectorAll('[data-testid="sync-site-row"]').length;`);
    assert.equal(rows, expected.length);
    assert.match(await s.textOf('[data-testid="sync-sites"]'), /not synced|never pulled/, "the demo sites were never pulled");
    await s.screenshot('o02-sync-sites-panel');
    await s.click('[data-testid="sync-sites-open"]');

    // Dark: the same pictures in the dark palette.
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-theme"]', 'dark');
    await s.click('[data-testid="nav-sites"]');
    await s.waitFor('[data-testid="site-row"] [data-testid="status-bar"] rect');
    assert.equal(await s.exec("return document.documentElement.dataset.theme;"), 'dark');
    await s.screenshot('o03-sites-dark');
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-theme"]', 'light');

    // The export of every site: its bar counts up to every resident.
    const everyone = expected.reduce((n, x) => n + Object.values(x.residents).reduce((a, b) => a + b, 0), 0);
    await s.click('[data-testid="nav-import"]');
    await s.waitFor('[data-testid="export-run"]');
    await watchProgress(s, '[data-testid="export-progress"]');
    const file = join(DIR, 'everyone.csv');
    answerDialog('save', file);
    await s.click('[data-testid="export-run"]');
    await s.waitFor('[data-testid="export-result"]', { timeout: 60000 });
    const exportSeen = await waitProgress(s, '[data-testid="export-progress"]', everyone);
    assert.ok(exportSeen.length >= 2 && exportSeen[0][0] < everyone, `the bar moved before the end: ${JSON.stringify(exportSeen)}`);
    assert.ok(exportSeen.every(([, max]) => max === everyone), JSON.stringify(exportSeen));
    const lines = readFileSync(file, 'utf8').trim().split('\n').length;
    assert.equal(lines, everyone + 1, 'the file holds every resident and the header');
    assert.match(await s.textOf('[data-testid="export-progress"]'), new RegExp(`${everyone.toLocaleString('en-US')} of ${everyone.toLocaleString('en-US')} rows`));
    await s.screenshot('o04-export-progress');

    // A bulk action on the big site's residents: its bar counts up to all of them.
    await s.click('[data-testid="nav-residents"]');
    const big = expected.reduce((a, b) => (Object.values(b.residents).reduce((x, y) => x + y, 0) > Object.values(a.residents).reduce((x, y) => x + y, 0) ? b : a));
    const bigTotal = Object.values(big.residents).reduce((a, b) => a + b, 0);
    await s.choose('[data-testid="site-select"]', String(big.site_id));
    await s.waitFor('[data-testid="count"]', { text: `residents at ${big.name}`, timeout: 60000 });
    await s.click('input[type="checkbox"][aria-label="Select all residents"]');
    await s.waitFor('[data-testid="bulk-apply"]');
    await s.choose('[data-testid="bulk-action"]', 'resend-invites');
    await watchProgress(s, '[data-testid="bulk-progress"]');
    await s.click('[data-testid="bulk-apply"]');
    const bulkSeen = await waitProgress(s, '[data-testid="bulk-progress"]', bigTotal);
    assert.ok(bulkSeen.length >= 3, `the bar moved in steps: ${JSON.stringify(bulkSeen)}`);
    assert.ok(bulkSeen.every(([now, max], i) => max === bigTotal && (i === 0 || now >= bulkSeen[i - 1][0])), JSON.stringify(bulkSeen));
    await s.screenshot('o05-bulk-progress');
  } finally {
    await s.end();
  }
});

test('a saved view and the remembered columns, sort and filters survive an app restart', async () => {
  // A view the owner shared with the team: the team administrator may choose it, not delete it.
  cli(accounts.owner, ['views', 'save', '--screen', 'residents', '--name', 'Move-outs', '--shared', '--filter', 'status=expired']);
  let s = await start();
  try {
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    // A named view, shared: residents who have not accepted their invitation, by unit,
    // without the email column.
    await s.choose('[data-testid="status-filter"]', 'invitation_not_accepted');
    await s.click('.c-unit button.sort');
    await s.click('[data-testid="column-chooser"] summary');
    await s.click('[data-testid="column-email"]');
    await s.click('[data-testid="view-save-as"]');
    await s.type('[data-testid="view-name"]', 'Pending invitations');
    await s.click('[data-testid="view-share"]');
    await s.click('[data-testid="view-save"]');
    await s.waitFor('[data-testid="view-select"]', { text: 'Pending invitations (shared)' });
    // Then the filters change again: that is the state remembered.
    await s.choose('[data-testid="status-filter"]', 'scheduled');
    await s.type('[data-testid="search"]', 'a');
    // Navigating away saves at once (the core has it before the app ends).
    await s.click('[data-testid="nav-sites"]');
    let remembered;
    for (let i = 0; i < 100; i++) {
      remembered = cli(accounts.team_admin, ['views', 'list', '--screen', 'residents']).views.find((v) => v.name === null);
      if (remembered?.state.filters.status === 'scheduled' && remembered.state.filters.search === 'a') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(remembered.state, { columns: ['name', 'unit', 'status', 'start', 'end'], sort: { key: 'unit', descending: false }, filters: { status: 'scheduled', search: 'a' } });
  } finally {
    await s.end();
  }

  s = await start();
  try {
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="view-select"]', { text: 'Pending invitations (shared)' });
    await s.waitForContent('[data-testid="count"]', 'the remembered filters applied', (t) => /residents? at /.test(t), { timeout: 30000 });
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="status-filter"]\').value;'), 'scheduled');
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="search"]\').value;'), 'a');
    assert.equal(await s.attr('.c-unit[role="columnheader"]', 'aria-sort'), 'ascending');
    assert.equal(await s.exec(`return getComputedStyle(document.querySelector('.c-email[role="columnheader"]')).display;`), 'none', 'the email column stays hidden');
    await s.screenshot('o06-view-remembered-after-restart');

    // The named view, chosen: its filter comes back.
    await s.choose('[data-testid="view-select"]', 'Pending invitations (shared)');
    await s.waitForContent('[data-testid="status-filter"]', 'invitation_not_accepted', () => true);
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="status-filter"]\').value;'), 'invitation_not_accepted');
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="search"]\').value;'), '');
    assert.equal(await s.enabled('[data-testid="view-delete"]'), true, 'one of mine: deletable');
    await s.screenshot('o07-view-chosen');

    // The owner's shared view, saved with the old flag (status=expired): it still loads, as
    // the main status it meant.
    await s.choose('[data-testid="view-select"]', 'Move-outs (shared by owner@demo.residentdesk.test)');
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="status-filter"]\').value;'), 'ended');
    assert.equal(await s.enabled('[data-testid="view-delete"]'), false, 'someone else’s view');
    assert.match(await s.attr('[data-testid="view-delete"]', 'title'), /Only its owner, owner@demo\.residentdesk\.test/);
    await s.screenshot('o08-view-shared-by-owner');
  } finally {
    await s.end();
  }
});
