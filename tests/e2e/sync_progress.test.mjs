// A sync pass shows its progress in the sync bar (issue #16): against sitemanager-sim, the
// first pass of a new desk pulls the remote team's sites, and the bar's progress bar
// (role="progressbar") counts the sites while the pass runs: it appears at 0 of the total and
// only counts up. The simulator answers with 150 ms of latency, as a real network would, so
// the pass lasts long enough to be seen. Needs the simulator (SITEMANAGER_SIM, or the core's
// target directory); skipped without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, startSim } from './webdriver.mjs';

const SIM = [process.env.SITEMANAGER_SIM, join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'sitemanager-sim')].find((p) => p && existsSync(p));
const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'sync-progress');
const DB = join(DIR, 'desk.db');

before(async () => {
  if (!SIM) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

test('the first sync pass shows the sites it pulls, counting up', { skip: !SIM && 'no sitemanager-sim binary' }, async () => {
  const sim = await startSim(SIM, ['--seed', 'demo', '--state', join(DIR, 'sim-state.db'), '--latency-ms', '150']);
  const s = await Session.start(['--db', DB]);
  try {
    // English whatever an earlier run left in the webview's storage.
    await s.exec("localStorage.setItem('residentdesk.locale', 'en'); window.__before = 1; location.reload();");
    for (let i = 0; i < 300 && !(await s.exec("return window.__before === undefined && document.querySelector('form[aria-labelledby=\"init-h\"]') !== null;").catch(() => false)); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await s.type('form[aria-labelledby="init-h"] input[type="email"]', 'admin@desk.example.test');
    await s.type('form[aria-labelledby="init-h"] input[type="password"]', 'Desk-Admin-2026!');
    await s.type('form[aria-labelledby="init-h"] label:nth-of-type(3) input', 'Riverside Living');
    await s.click('form[aria-labelledby="init-h"] button[type="submit"]');
    await s.waitFor('[data-testid="who"]', { text: 'Team administrator' });
    // Every value the sync bar's progress bar shows, from before the first pass starts.
    await s.exec(
      `window.__seen = [];
       const note = () => {
         const bar = document.querySelector('[data-testid="sync-progress"] [role="progressbar"]');
         if (!bar) return;
         const v = [Number(bar.getAttribute('aria-valuenow')), Number(bar.getAttribute('aria-valuemax')), bar.getAttribute('aria-valuetext')];
         const last = window.__seen[window.__seen.length - 1];
         if (!last || last[0] !== v[0] || last[1] !== v[1]) window.__seen.push(v);
       };
       new MutationObserver(note).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow', 'aria-valuemax'] });`,
    );
    await s.click('[data-testid="nav-settings"]');
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(1) input', sim.url);
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(2) input', 'team.admin@demo.sim.test');
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(3) input', 'team-admin-pass');
    await s.click('form[aria-label="Sync with the remote"] button[type="submit"]');
    // "Online · never synced" may show before the first pass has begun (a loaded machine):
    // the pass has ended once the bar names its last sync.
    await s.waitFor('[data-testid="sync-bar"]', { text: 'last sync', timeout: 60000, content: true });
    const seen = await s.exec('return window.__seen;');
    const sites = await s.exec('return document.querySelectorAll("[data-testid=\'sync-site-row\']").length;').catch(() => 0);
    const pulls = seen.filter(([, , text]) => / sites$/.test(text));
    assert.ok(pulls.length > 0, `the pull's progress was shown: ${JSON.stringify(seen)} (${sites})`);
    const total = pulls[0][1];
    assert.ok(total > 0 && pulls.every(([now, max]) => max === total && now <= total), JSON.stringify(pulls));
    assert.ok(pulls.every(([now], i) => i === 0 || now >= pulls[i - 1][0]), `the count only goes up: ${JSON.stringify(pulls)}`);
    // Between two values the status channel keeps only the newest, so not every count is seen.
    // The per-site panel: every pulled site with a last pull.
    await s.click('[data-testid="sync-sites-open"]');
    await s.waitFor('[data-testid="sync-site-row"]');
    const rows = await s.exec(`return [...document.querySelectorAll('[data-testid="sync-site-row"]')].map((r) => r.cells[1].textContent);`);
    assert.equal(rows.length, total, `one row per pulled site: ${rows}`);
    assert.ok(rows.every((t) => !/not synced|never pulled/.test(t)), `every site has its last pull: ${rows}`);
    await s.screenshot('o09-sync-sites-after-pull');
  } finally {
    await s.end();
    sim.proc.kill('SIGTERM');
  }
});
