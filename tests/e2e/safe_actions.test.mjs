// Safe actions (#18): a resident's detail offers only the actions that fit their state (the
// core's answer, `resident_actions`), says why the others are not there in a readable line,
// keeps "Delete permanently" apart behind a confirmation that asks for the resident's name,
// and every terminate or suspend can be undone from its notice while it is unsent; an ended
// resident can be reinstated. A Team administrator walks add → edit → terminate → Undo,
// terminate → Reinstate and Delete permanently; a Staff user sees exactly what the core
// allows them. One app start, on a database of its own (demo seeded by the CLI, no remote:
// nothing is sent, so Undo is always in time). Screenshots s1-s6, light theme (s6 in Spanish).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, invoke, systemLookAndLanguage } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'safe-actions');
const DB = join(DIR, 'desk.db');
const EMAIL = 'rita.reinstate@example.test';

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync('target/debug/residentdesk', ['--db', DB, 'demo', 'seed', '--residents', '120'], { stdio: 'ignore' });
  await startDriver();
});
after(stopDriver);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function present(s, css) {
  return (await s.findAll(css)).length > 0;
}

async function waitGone(s, css) {
  for (let i = 0; i < 100 && (await present(s, css)); i++) await sleep(100);
  assert.equal(await present(s, css), false, `${css} is still there`);
}

/** The test ids of the action buttons the detail offers now. */
async function offered(s) {
  await s.waitFor('[data-testid="resident-actions"]');
  return s.exec(`return [...document.querySelectorAll('[data-testid="resident-actions"] button, [data-testid="danger-zone"] button')]
    .map((b) => b.dataset.testid);`);
}

/** The core's own answer for the resident: the actions it says are available. */
async function coreAvailable(s, id) {
  const answer = await invoke(s, 'resident_actions', { resident: String(id) });
  return answer.actions.filter((a) => a.available).map((a) => a.action);
}

const TESTID = { edit: 'edit-resident', suspend: 'suspend', terminate: 'terminate' };
const testidOf = (action) => TESTID[action] ?? `action-${action}`;

/** The unsent outbox entries of the resident (operation names). */
async function unsent(s, email) {
  const entries = await invoke(s, 'outbox_list', { all: false, limit: 10000 });
  return entries.filter((e) => e.email === email && e.state === 'pending').map((e) => e.op);
}

/** Waits until one of the notices says `text`. */
async function waitNotice(s, text) {
  for (let i = 0; i < 150; i++) {
    const all = await s.exec(`return [...document.querySelectorAll('[data-testid="notice"]')].map((n) => n.textContent).join(' | ');`);
    if (all.includes(text)) return all;
    await sleep(100);
  }
  throw new Error(`no notice says ${JSON.stringify(text)}`);
}

/** Opens the notice's action (Undo) and waits for the notice that says it was done. */
async function undoFromNotice(s) {
  await s.waitFor('[data-testid="notice-action"]', { text: 'Undo' });
  await s.click('[data-testid="notice-action"]');
  await waitNotice(s, 'The change was undone.');
}

async function terminate(s) {
  await s.click('[data-testid="terminate"]');
  await s.waitFor('[data-testid="confirm"]');
  const message = await s.textOf('#confirm-message');
  assert.match(message, /undo this until the next sync/, message);
  await s.click('[data-testid="confirm"]');
  await s.waitFor('[data-testid="action-reinstate"]');
}

/** A person's walk through one new resident: add, edit, terminate → Undo, terminate →
 *  Reinstate, the offered buttons always the core's answer. Returns the resident's id. */
async function walk(s, who, email) {
  // Add: the first free unit the core accepts.
  await s.click('[data-testid="add-resident"]');
  await s.waitFor('[data-testid="resident-form"]');
  await s.type('input[name="first_name"]', who.first);
  await s.type('input[name="last_name"]', who.last);
  await s.type('input[name="email"]', email);
  await s.type('input[name="start"]', '2026-01-15');
  await s.type('input[name="end"]', '2027-06-30');
  // The first unit the core accepts (the demo fills each building's first units).
  let saved = false;
  for (let b = 1; b <= 3 && !saved; b++) {
    if ((await s.chooseIndex('select[name="building"]', b)) === null) break;
    await s.chooseIndex('select[name="floor"]', 1);
    for (let unit = 1; unit < 40 && !saved; unit++) {
      if ((await s.chooseIndex('select[name="unit"]', unit)) === null) break;
      await s.click('[data-testid="save-resident"]');
      for (let i = 0; i < 30; i++) {
        if (await present(s, '[data-testid="resident-detail"]')) {
          saved = true;
          break;
        }
        if (await present(s, '[data-testid="error-unit"]')) break;
        await sleep(100);
      }
    }
  }
  if (!saved) await s.screenshot(`${who.shots}0-add-failed`);
  const formText = saved ? '' : await s.exec(`return document.querySelector('[data-testid="resident-form"]')?.innerText ?? 'no form';`);
  assert.ok(saved, `the resident was saved: ${formText}`);
  await s.waitFor('[data-testid="resident-detail"]', { text: email });

  // Edit.
  await s.click('[data-testid="edit-resident"]');
  await s.waitFor('[data-testid="resident-form"]');
  await s.type('input[name="first_name"]', who.edited);
  await s.click('[data-testid="save-resident"]');
  await s.waitFor('#detail-h', { text: `${who.edited} ${who.last}` });
  const id = (await invoke(s, 'resident_show', { resident: email })).id;

  // Active, never onboarded: the buttons are the core's answer; Suspend waits for the
  // invitation to be accepted, and the line says so; Delete permanently is apart.
  const active = await offered(s);
  assert.deepEqual(active.sort(), (await coreAvailable(s, id)).map(testidOf).sort());
  assert.ok(active.includes('terminate') && !active.includes('action-reinstate'), active.join());
  assert.ok(!active.includes('suspend'), 'a resident who has not accepted the invitation is not offered Suspend');
  const why = await s.textOf('[data-testid="actions-why"]');
  assert.match(why, /Suspend: the resident has not accepted the invitation yet\./, why);
  assert.ok(await present(s, '[data-testid="danger-zone"] [data-testid="action-delete_permanently"]'), 'delete lives in the danger zone');
  const size = await s.exec(`return parseFloat(getComputedStyle(document.querySelector('[data-testid="actions-why"]')).fontSize);`);
  assert.ok(size >= 12, `the reason is readable (${size}px)`);
  await s.screenshot(`${who.shots}1-detail-active`);

  // Terminate → Undo in the notice: active again, nothing about it left to send.
  await terminate(s);
  await s.screenshot(`${who.shots}2-terminated-undo-notice`);
  await undoFromNotice(s);
  await s.waitFor('[data-testid="terminate"]');
  assert.equal(await present(s, '[data-testid="action-reinstate"]'), false);
  const left = await unsent(s, email);
  assert.ok(!left.includes('terminate'), `the termination was withdrawn: ${left}`);
  assert.ok(left.includes('create'), `the new resident is still to be sent: ${left}`);
  assert.match(await s.textOf('[data-testid="detail-access"]'), /2027/, 'the lease end is back');

  // Terminate again → an ended resident is offered no Terminate or Suspend, but Reinstate.
  await terminate(s);
  const ended = await offered(s);
  assert.ok(!ended.includes('terminate') && !ended.includes('suspend'), ended.join());
  assert.deepEqual(ended.sort(), (await coreAvailable(s, id)).map(testidOf).sort());
  const endedWhy = await s.textOf('[data-testid="actions-why"]');
  assert.match(endedWhy, /Terminate.*: access has ended\./, endedWhy);
  assert.match(await s.textOf('[data-testid="purge-why"]'), /deleted automatically on/);
  await s.screenshot(`${who.shots}3-detail-ended`);
  await s.click('[data-testid="action-reinstate"]');
  await waitNotice(s, 'access is back');
  await s.waitFor('[data-testid="terminate"]');
  assert.match(await s.textOf('[data-testid="detail-access"]'), /2027/, 'a lease end still ahead is kept');
  return id;
}

test('actions fit the state; terminate can be undone or reinstated; delete permanently asks for the name', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    await systemLookAndLanguage(s);
    await s.waitFor('#email');
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });

    await walk(s, { first: 'Rita', last: 'Reinstate', edited: 'Rosa', shots: 's' }, EMAIL);

    // Delete permanently: only once the resident's name is typed.
    await s.click('[data-testid="action-delete_permanently"]');
    await s.waitFor('[data-testid="purge-dialog"]');
    assert.equal(await s.enabled('[data-testid="purge-confirm"]'), false, 'nothing typed: no delete');
    await s.type('[data-testid="purge-name"]', 'Rosa');
    await s.waitFor('[data-testid="purge-mismatch"]');
    assert.equal(await s.enabled('[data-testid="purge-confirm"]'), false, 'half the name: no delete');
    await s.screenshot('s4-purge-confirm');
    await s.type('[data-testid="purge-name"]', 'rosa  reinstate ');
    assert.equal(await s.enabled('[data-testid="purge-confirm"]'), true, 'the name typed: delete allowed');
    await s.click('[data-testid="purge-confirm"]');
    await waitGone(s, '[data-testid="resident-detail"]');
    await waitNotice(s, 'deleted permanently');
    await assert.rejects(invoke(s, 'resident_show', { resident: EMAIL }), /not_found/);

    // A Staff user: the detail offers exactly what the core allows them for that resident.
    await s.click('[data-testid="sign-out"]');
    await signIn(s, accounts.staff_user);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    // The same walk as a Staff user (Table-1 lets them add, edit, terminate and reinstate).
    await walk(s, { first: 'Sam', last: 'Stafford', edited: 'Sol', shots: 'st' }, 'sam.stafford@example.test');
    await s.click('button[aria-label="Close resident details"]');
    await waitGone(s, '[data-testid="resident-detail"]');
    await s.click('[data-testid="open-resident"]');
    await s.waitFor('[data-testid="resident-detail"]');
    const shown = await s.textOf('#detail-h');
    const rid = await s.exec(`return document.querySelector('[data-testid="resident-detail"]').dataset.residentId;`);
    const mine = await offered(s);
    assert.deepEqual(mine.sort(), (await coreAvailable(s, rid)).map(testidOf).sort(), `Staff user on ${shown}`);
    assert.ok(mine.includes('edit-resident'), mine.join());
    await s.screenshot('s5-detail-staff-user');

    // The same panel in Spanish: the actions and the danger zone from the catalog.
    await s.click('button[aria-label="Close resident details"]');
    await waitGone(s, '[data-testid="resident-detail"]');
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-language"]', 'es');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.click('[data-testid="open-resident"]');
    await s.waitFor('[data-testid="danger-zone"]', { text: 'Zona de peligro' });
    await s.waitFor('[data-testid="resident-actions"]', { text: 'Dar de baja' });
    await s.screenshot('s6-detail-staff-user-es');
  } finally {
    // Back to the OS's language on this desk, whatever happened (the choice outlives the app).
    await s.exec('localStorage.removeItem("residentdesk.locale");').catch(() => {});
    await s.end();
  }
});
