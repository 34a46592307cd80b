// The idle lock end to end, on a demo database of its own, in the e2e build whose
// `--e2e-idle-minute 1` makes an idle "minute" one second (the team's default 10 minutes are
// 10 s here). A Team administrator types into the resident form and leaves it: the core locks
// the session, the lock screen (a modal <dialog>, focus inside it) covers the app and names
// who was signed in, every call is refused by the core as `session_locked`; a wrong password
// is refused, the right one opens the app again with the typed text still in the form. Then
// it locks again and another person signs in instead: the first person's form is gone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'idle');
const DB = join(DIR, 'desk.db');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

const LOCK = '[data-testid="lock-screen"]';

/** Waits for the core's lock to show (10 idle "minutes" of a second each, and the shell's
 * one-second watch). */
async function waitLocked(s) {
  await s.waitFor(`${LOCK}[open]`, { timeout: 40000 });
}

test('an idle session locks; the password again keeps the unsaved form; someone else may sign in instead', async () => {
  const s = await Session.start(['--db', DB, '--e2e-idle-minute', '1']);
  try {
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 20000 });
    await s.click('[data-testid="add-resident"]');
    await s.waitFor('[data-testid="resident-form"]');
    await s.type('input[name="first_name"]', 'Unsaved-Ida');
    await s.type('input[name="last_name"]', 'Keepme');

    // Nobody touches anything: the core locks the session.
    await waitLocked(s);
    assert.equal(await s.textOf('[data-testid="lock-who"]'), accounts.team_admin.email, 'who was signed in');
    const modal = await s.exec(`const d = document.querySelector('${LOCK}');
      return { modal: d.matches(':modal'), focusInside: d.contains(document.activeElement) };`);
    assert.deepEqual(modal, { modal: true, focusInside: true }, 'a modal dialog with the focus in it');
    // The screen beneath is still there, with what was typed.
    assert.equal(await s.exec(`return document.querySelector('input[name="first_name"]').value;`), 'Unsaved-Ida');
    // The core refuses every call of the locked session, whatever the UI does.
    const refused = await s.exec(
      `return window.__TAURI_INTERNALS__.invoke('team_show').then(() => 'allowed', (e) => e.code + ' ' + (e.details?.reason ?? ''));`,
    );
    assert.equal(refused, 'unauthenticated session_locked');
    await s.screenshot('90-idle-locked');

    // A wrong password: refused, still locked.
    await s.type('#lock-password', 'not-the-password');
    await s.click('#unlock');
    await s.waitFor('[data-testid="lock-error"]', { text: 'wrong email or password' });
    assert.ok(await s.exec(`return document.querySelector('${LOCK}')?.open === true;`), 'still locked');
    // The right one: the app as it was left.
    await s.type('#lock-password', accounts.team_admin.password);
    await s.click('#unlock');
    const until = Date.now() + 15000;
    while (Date.now() < until && (await s.exec(`return !!document.querySelector('${LOCK}');`))) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await s.exec(`return !!document.querySelector('${LOCK}');`), false, 'unlocked');
    assert.equal(await s.exec(`return document.querySelector('input[name="first_name"]').value;`), 'Unsaved-Ida');
    assert.equal(await s.exec(`return document.querySelector('input[name="last_name"]').value;`), 'Keepme');
    assert.match(await s.textOf('[data-testid="who"]'), /Team administrator/);
    await s.screenshot('91-idle-unlocked-form-kept');

    // Locked again; another person signs in instead: the first one's unsaved form is gone.
    await waitLocked(s);
    await s.click('[data-testid="lock-switch"]');
    await s.type('#lock-email', accounts.staff_user.email);
    await s.type('#lock-password', accounts.staff_user.password);
    await s.click('#unlock');
    await s.waitFor('[data-testid="who"]', { text: accounts.staff_user.title });
    assert.equal(await s.exec(`return !!document.querySelector('${LOCK}');`), false, 'the new person is in');
    assert.equal(await s.exec(`return !!document.querySelector('[data-testid="resident-form"]');`), false, 'the form is discarded');
    await s.screenshot('92-idle-someone-else');
  } finally {
    await s.end();
  }
});
