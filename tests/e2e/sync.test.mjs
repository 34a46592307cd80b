// Sync end to end: a new team named like the simulator's demo team is linked by the
// background worker, goes offline (simulator stopped), is edited, comes back (simulator
// restarted on its state file) and the change is synced. Needs SITEMANAGER_SIM (the
// simulator binary; `cargo xtask test` builds it); skipped without it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, startSim } from './webdriver.mjs';

const SIM = process.env.SITEMANAGER_SIM;
const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'sync');
const DB = join(DIR, 'desk.db');
const STATE = join(DIR, 'sim-state.db');

function stopSim(sim) {
  return new Promise((resolve) => {
    sim.proc.once('exit', resolve);
    sim.proc.kill('SIGTERM');
  });
}

before(async () => {
  if (!SIM) return;
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

let simPort = null;

/** Prints how long each step took, so a slow or stuck step is plain in CI's log. */
function stopwatch(name) {
  const start = Date.now();
  let last = start;
  return (step) => {
    const now = Date.now();
    console.log(`${name}: ${step} after ${now - last} ms (${now - start} ms in all)`);
    last = now;
  };
}

test('offline edit is synced when the remote comes back', { skip: !SIM && 'SITEMANAGER_SIM is not set' }, async () => {
  let sim = await startSim(SIM, ['--seed', 'demo', '--state', STATE]);
  const port = new URL(sim.url).port;
  simPort = port;
  const s = await Session.start(['--db', DB]);
  const mark = stopwatch('offline edit');
  try {
    // First run: a new team with the remote team's name, then the sync settings.
    await s.type('#init-h ~ label input[type="email"], form[aria-labelledby="init-h"] input[type="email"]', 'admin@desk.example.test');
    await s.type('form[aria-labelledby="init-h"] input[type="password"]', 'Desk-Admin-2026!');
    await s.type('form[aria-labelledby="init-h"] label:nth-of-type(3) input', 'Riverside Living');
    await s.click('form[aria-labelledby="init-h"] button[type="submit"]');
    await s.waitFor('[data-testid="who"]', { text: 'Team administrator' });
    await s.click('[data-testid="nav-settings"]');
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(1) input', sim.url);
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(2) input', 'team.admin@demo.sim.test');
    await s.type('form[aria-label="Sync with the remote"] label:nth-of-type(3) input', 'team-admin-pass');
    await s.click('form[aria-label="Sync with the remote"] button[type="submit"]');
    mark('settings saved');
    await s.waitFor('[data-testid="sync-bar"]', { text: 'Online', timeout: 60000, content: true });
    mark('first sync done');
    await s.screenshot('70-sync-online');

    // The pulled sites and residents are there.
    await s.click('[data-testid="nav-residents"]');
    await s.click('[data-testid="nav-sites"]');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    mark('pulled residents listed');

    // Offline: stop the remote, edit a resident, ask for a sync.
    await stopSim(sim);
    await s.click('[data-testid="open-resident"]');
    await s.click('[data-testid="edit-resident"]');
    await s.type('input[name="phone"]', '+15550100');
    await s.click('[data-testid="save-resident"]');
    await s.waitFor('[data-testid="resident-detail"]', { text: '+15550100' });
    await s.click('button[aria-label="Close resident details"]');
    mark('edited while the remote is down');
    await s.click('[data-testid="sync-now"]');
    await s.waitFor('[data-testid="sync-bar"]', { text: 'Offline', timeout: 60000, content: true });
    await s.waitFor('[data-testid="sync-bar"]', { text: '1 pending', timeout: 30000, content: true });
    mark('offline shown');
    await s.screenshot('71-sync-offline-pending');

    // Back online on the same address and state: the change goes out.
    sim = await startSim(SIM, ['--state', STATE, '--listen', `127.0.0.1:${port}`]);
    await s.click('[data-testid="sync-now"]');
    const text = await s.waitForContent('[data-testid="sync-bar"]', 'Online with nothing pending', (t) => t.includes('Online') && !t.includes('pending'), { timeout: 60000 });
    mark('synced after the remote came back');
    assert.match(text, /last sync \d{1,2}:\d\d(\s[AP]M)? UTC/, text);
    await s.screenshot('72-sync-back-online');
  } catch (e) {
    await s.screenshot('79-sync-failure').catch(() => {});
    await dumpSyncState(s);
    throw e;
  } finally {
    await s.end();
    await stopSim(sim).catch(() => {});
  }
});

/** Prints what the app knows of sync (the bar's detail and the stored status), so a
 * failure in CI's log says where the pass stood. */
async function dumpSyncState(s) {
  const detail = await s
    .exec("const t = document.querySelector('[data-testid=\"sync-bar\"] .text'); return t ? t.title : '(no sync bar)';")
    .catch((e) => `(cannot read the sync bar: ${e.message})`);
  const status = await s
    .exec("return window.__TAURI_INTERNALS__.invoke('sync_status').then((v) => JSON.stringify(v), (e) => 'error ' + JSON.stringify(e));")
    .catch((e) => `(cannot ask the app: ${e.message})`);
  console.log(`sync bar detail: ${detail}\nstored sync status: ${status}`);
}

/** Calls the simulator's v2 API as the service account. */
async function v2(base, method, path, body) {
  const auth = Buffer.from('team.admin@demo.sim.test:team-admin-pass').toString('base64');
  const token = await fetch(`${base}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Password ${auth}`, 'content-type': 'application/json' },
    body: '{}',
  }).then((r) => r.json());
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${token.access_token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

test('a field changed here and on the remote is a conflict, resolved side by side', { skip: !SIM && 'SITEMANAGER_SIM is not set' }, async () => {
  assert.ok(simPort, 'the first sync test ran');
  const sim = await startSim(SIM, ['--state', STATE, '--listen', `127.0.0.1:${simPort}`]);
  const s = await Session.start(['--db', DB]);
  try {
    await s.type('#email', 'admin@desk.example.test');
    await s.type('#password', 'Desk-Admin-2026!');
    await s.click('#signin');
    await s.waitFor('[data-testid="sync-bar"]', { text: 'Online', timeout: 60000, content: true });
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    const email = await s.exec("return document.querySelector('[data-testid=\"resident-row\"] .c-email').textContent.trim();");

    // The remote changes the first name...
    const teams = await v2(sim.url, 'GET', '/team');
    const team = teams.Teams.find((t) => t.Name === 'Riverside Living');
    const sites = await v2(sim.url, 'GET', `/team/${team.TeamId}/site`);
    let target = null;
    for (const site of sites.Sites) {
      const list = await v2(sim.url, 'GET', `/team/${team.TeamId}/site/${site.SiteId}/resident`);
      const r = list.Residents.find((x) => x.Email === email);
      if (r) target = { site: site.SiteId, r };
    }
    assert.ok(target, `the remote has ${email}`);
    const r = target.r;
    await v2(sim.url, 'PUT', `/team/${team.TeamId}/site/${target.site}/resident/${r.ResidentId}`, {
      FirstName: 'RemoteName',
      LastName: r.LastName,
      Email: r.Email,
      PhoneNumber: r.PhoneNumber ?? r.Phone ?? null,
      Building: r.Building,
      Floor: r.Floor,
      Unit: r.Unit,
      ActivationDateUTC: r.ActivationDateUTC,
      DeactivationDateUTC: r.DeactivationDateUTC ?? null,
    });

    // ...and so does this desk, before the next sync.
    await s.click('[data-testid="open-resident"]');
    await s.click('[data-testid="edit-resident"]');
    await s.type('input[name="first_name"]', 'LocalName');
    await s.click('[data-testid="save-resident"]');
    await s.waitFor('#detail-h', { text: 'LocalName' });
    await s.click('button[aria-label="Close resident details"]');
    await s.click('[data-testid="sync-now"]');
    await s.waitFor('[data-testid="sync-bar"]', { text: 'conflict', timeout: 60000, content: true });

    await s.click('[data-testid="nav-conflicts"]');
    const conflict = await s.textOf('[data-testid="conflict"]');
    assert.match(conflict, /LocalName/, conflict);
    assert.match(conflict, /RemoteName/, conflict);
    await s.screenshot('73-conflict-side-by-side');
    await s.click('[data-testid="conflict"] button.primary + button');
    await s.waitFor('[data-testid="no-conflicts"]', { timeout: 30000 });
    await s.click('[data-testid="sync-now"]');
    await s.screenshot('74-conflict-resolved');
  } catch (e) {
    await s.screenshot('79-conflict-failure').catch(() => {});
    await dumpSyncState(s);
    throw e;
  } finally {
    await s.end();
    await stopSim(sim).catch(() => {});
  }
});
