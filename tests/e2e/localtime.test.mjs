// Local time and the Residents filters (issue 16), on a demo database of its own.
//
// The app runs on a clock pinned near midnight UTC (the e2e build's `--e2e-now`), with one
// site in Los Angeles (west of UTC) and one in Auckland (east). The resident form's default
// start is the site's today, not the UTC date; a resident added with it is current at once,
// and the list and the detail show the site's day. Twice: an hour after midnight UTC (Los
// Angeles is still on the day before) and an hour before (Auckland is already on the next).
//
// Then the filter fix: typing in Search keeps the chosen Building and the selection (the
// "site changed" effect used to run again on every keystroke and reset both).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, invoke } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'localtime');
const DB = join(DIR, 'desk.db');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

const WEST = 'America/Los_Angeles';
const EAST = 'Pacific/Auckland';
let sites; // [{ id, name, zone }]

/** A site's calendar day as the English screens write it (the locale's medium date). */
const shownDay = (day) => new Intl.DateTimeFormat('en', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));

/** Adds a resident at `site` with the form's default start, checks that default and what the
 * screens show afterwards. */
async function addWithDefaultStart(s, site, expectedDay, email, shot) {
  await s.choose('[data-testid="site-select"]', String(site.id));
  await s.waitFor('[data-testid="count"]', { text: `at ${site.name}`, content: true });
  await s.click('[data-testid="add-resident"]');
  await s.waitFor('[data-testid="resident-form"]');
  await s.waitFor('[data-testid="form-zone"]', { text: site.zone, content: true });
  const start = await s.exec("return document.querySelector('input[name=\"start\"]').value;");
  assert.equal(start, expectedDay, `the form's default start at ${site.name} (${site.zone}) is the site's today`);
  await s.screenshot(`${shot}-form`);
  await s.type('input[name="first_name"]', 'Lena');
  await s.type('input[name="last_name"]', 'Localtime');
  await s.type('input[name="email"]', email);
  // A free unit: try units (building by building, floor by floor) until the core accepts
  // one (an occupied unit is a rule error at the unit).
  let saved = false;
  for (let b = 1; b < 4 && !saved; b++) {
    if ((await s.chooseIndex('select[name="building"]', b)) === null) break;
    for (let f = 1; f < 6 && !saved; f++) {
      if ((await s.chooseIndex('select[name="floor"]', f)) === null) break;
      for (let unit = 1; unit < 21 && !saved; unit++) {
        if ((await s.chooseIndex('select[name="unit"]', unit)) === null) break;
        await s.click('[data-testid="save-resident"]');
        for (let i = 0; i < 50; i++) {
          if ((await s.findAll('[data-testid="resident-detail"]')).length > 0) {
            saved = true;
            break;
          }
          if ((await s.findAll('[data-testid="error-unit"]')).length > 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    }
  }
  assert.ok(saved, `the resident was saved at ${site.name}`);
  await s.waitFor('[data-testid="resident-detail"]', { text: email, content: true });
  const chips = await s.exec("return [...document.querySelectorAll('[data-testid=\"resident-detail\"] .chip')].map((c) => c.textContent);");
  assert.ok(chips.includes('Active') && !chips.includes('Scheduled'), `added at the desk today, active at once: ${chips}`);
  const access = await s.textOf('[data-testid="detail-access"]');
  assert.equal(access, `${shownDay(expectedDay)} → open-ended (${site.zone})`);
  await s.screenshot(`${shot}-detail`);
  await s.click('[aria-label="Close resident details"]');
  // The list shows the site's day too.
  await s.search(email);
  await s.waitForContent('[data-testid="count"]', 'one resident found', (t) => /^\s*1 resident\b/.test(t));
  const cells = await s.exec("return [...document.querySelectorAll('[data-testid=\"resident-row\"] .c-date')].map((c) => c.textContent);");
  assert.deepEqual(cells, [shownDay(expectedDay), '—']);
  await s.search('');
}

async function launch(now, fn) {
  const s = await Session.start(['--db', DB, '--e2e-now', now]);
  try {
    await fn(s);
  } finally {
    await s.end();
  }
}

test('an hour after midnight UTC: Los Angeles is still on the day before', () =>
  launch('2026-12-01T01:00:00Z', async (s) => {
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    await signIn(s, accounts.owner);
    await s.waitFor('[data-testid="site-select"]');
    // Two of the owner's sites move to a zone west and a zone east of UTC (site settings,
    // a Team administrator's right, as in the CLI's `site settings --time-zone`).
    const listed = await invoke(s, 'site_list');
    assert.ok(listed.length >= 2, 'the owner sees two sites');
    sites = [
      { id: listed[0].id, name: listed[0].name, zone: WEST },
      { id: listed[1].id, name: listed[1].name, zone: EAST },
    ];
    for (const site of sites) {
      await invoke(s, 'site_settings_update', { site: String(site.id), patch: { name: null, site_type: null, time_zone: site.zone, settings: null } });
      const today = await invoke(s, 'site_today', { site: String(site.id) });
      assert.equal(today.time_zone, site.zone);
    }
    assert.equal((await invoke(s, 'site_today', { site: String(sites[0].id) })).today, '2026-11-30');
    await addWithDefaultStart(s, sites[0], '2026-11-30', 'lena.west1@example.test', '90-localtime-west-after-midnight');
    await addWithDefaultStart(s, sites[1], '2026-12-01', 'lena.east1@example.test', '91-localtime-east-after-midnight');
  }));

test('an hour before midnight UTC: Auckland is already on the next day', () =>
  launch('2026-11-30T23:00:00Z', async (s) => {
    await s.waitFor('#signin');
    await signIn(s, accounts.owner);
    await s.waitFor('[data-testid="site-select"]');
    await addWithDefaultStart(s, sites[0], '2026-11-30', 'lena.west2@example.test', '92-localtime-west-before-midnight');
    await addWithDefaultStart(s, sites[1], '2026-12-01', 'lena.east2@example.test', '93-localtime-east-before-midnight');
  }));

test('typing in Search keeps the chosen building and the selection', () =>
  launch('2026-11-30T23:00:00Z', async (s) => {
    await s.waitFor('#signin');
    await signIn(s, accounts.owner);
    await s.choose('[data-testid="site-select"]', String(sites[0].id));
    await s.waitFor('[data-testid="count"]', { text: `at ${sites[0].name}`, content: true });
    const building = await s.chooseIndex('[data-testid="building-filter"]', 1);
    assert.ok(building, 'the site has a building to filter by');
    await s.waitFor('[data-testid="resident-row"]');
    await s.exec("document.querySelector('[data-testid=\"resident-row\"] input[type=\"checkbox\"]').click();");
    await s.waitFor('[aria-label="Bulk actions"]', { text: '1 selected', content: true });
    // Key by key, as a person types.
    const el = await s.waitFor('[data-testid="search"]');
    for (const key of ['l', 'e', 'n']) {
      await s.cmd('POST', `/element/${el}/value`, { text: key });
    }
    await s.waitFor('[data-testid="count"]', { text: 'residents at', content: true });
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(await s.exec("return document.querySelector('[data-testid=\"search\"]').value;"), 'len');
    assert.equal(await s.exec("return document.querySelector('[data-testid=\"building-filter\"]').value;"), building, 'the building filter stays');
    const bulk = await s.exec("return document.querySelector('[aria-label=\"Bulk actions\"]')?.textContent ?? 'gone';");
    assert.match(bulk, /1 selected/, 'the selection stays');
    await s.screenshot('94-residents-search-keeps-filters');
  }));
