// Settings end to end, on a demo database of its own: "Check the connection" against the
// demo's simulated Site Manager (the sitemanager-sim library the desktop starts for a demo)
// shows its report; "Back up now" adds a backup to the list; a change made after that backup
// (the number of automatic backups kept) is gone after "Restore…", whose confirmation says
// what is lost, and the restore ends at the sign-in screen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'settings');
const DB = join(DIR, 'desk.db');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

const rows = (s) => s.exec("return document.querySelectorAll('[data-testid=\"backup-row\"]').length;");

async function waitRows(s, what, ok, timeout = 15000) {
  const until = Date.now() + timeout;
  let n = await rows(s);
  while (!ok(n) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    n = await rows(s);
  }
  assert.ok(ok(n), `${what} (rows: ${n})`);
  return n;
}

test('check the connection, back up now, restore a backup and sign in again', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    const firstRun = await s.exec('return document.body.innerText');
    assert.ok(!firstRun.includes(DB) && !/empty|nothing is set up/i.test(firstRun), `first run, demo loaded: ${firstRun}`);
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    // People, not paths: the database file is named in Settings → About only.
    assert.ok(!(await s.exec('return document.body.innerText')).includes(DB), 'no file path on the sign-in card');
    await signIn(s, accounts.owner);
    await s.click('[data-testid="nav-settings"]');
    await s.waitForContent('[data-testid="about-db-path"]', 'the database path in About', (t) => t === DB);

    // The connection check: every assumption with its result, the calls with their times.
    await s.click('[data-testid="check-run"]');
    const summary = await s.waitForContent('[data-testid="check-summary"]', 'the check summary', (t) => /checked and held/.test(t), { timeout: 60000 });
    assert.match(summary, /http:\/\/127\.0\.0\.1:\d+\/v2 answers as ResidentDesk expects: \d+ checked and held, 0 contradicted/);
    const results = await s.exec("return [...document.querySelectorAll('[data-testid=\"check-assumption\"]')].map((r) => r.dataset.result);");
    assert.ok(results.length >= 5, `assumptions listed: ${results}`);
    assert.ok(results.includes('held'), `some assumption held: ${results}`);
    const calls = await s.exec("return document.querySelector('[data-testid=\"check-calls\"]').textContent;");
    assert.match(calls, /GET .*\d+ ms/);
    await s.waitFor('[data-testid="check-push-ok"]');
    await s.screenshot('80-settings-connection-check');

    // Back up now: one more manual backup is listed (the day's first backup is taken a
    // moment after the sign-in, in the background: it may join the list too).
    await s.waitFor('[data-testid="backup-list"], [data-testid="backups"] p.muted');
    const manual = () => s.exec("return [...document.querySelectorAll('[data-testid=\"backup-row\"] td:nth-child(2)')].filter((c) => c.textContent === 'Manual').length;");
    const [before, manualBefore] = [await rows(s), await manual()];
    await s.click('[data-testid="backup-now"]');
    await waitRows(s, 'the new backup is listed', (n) => n >= before + 1);
    assert.equal(await manual(), manualBefore + 1, 'one more manual backup');
    await s.screenshot('81-settings-backed-up');

    // A change after the backup: keep 20 automatic backups instead of 14.
    assert.equal(await s.exec("return document.querySelector('[data-testid=\"backup-keep\"]').value;"), '14');
    await s.type('[data-testid="backup-keep"]', '20');
    await s.click('form[aria-label="Automatic backups kept"] button[type="submit"]');
    await s.waitFor('.notices', { text: 'newest 20 automatic backups', content: true });

    // Restore the manual backup: the confirmation says what is lost. The two notices in the
    // corner cover the Restore buttons at the foot of the page (issue 18: notices that cover
    // content), so the person closes them first.
    await s.exec("document.querySelectorAll('.notices button').forEach((b) => b.click());");
    await s.exec(
      "[...document.querySelectorAll('[data-testid=\"backup-row\"]')].find((r) => r.querySelector('td:nth-child(2)').textContent === 'Manual').querySelector('[data-testid=\"backup-restore\"]').click(); return true;",
    );
    const message = await s.waitForContent('#confirm-message', 'what a restore loses', (t) => t.includes('lose'));
    assert.match(message, /You will lose [1-9]\d* changes? made since it was taken, and \d+ changes? not yet sent to Site Manager/);
    await s.screenshot('82-settings-restore-confirm');
    await s.click('[data-testid="confirm"]');
    await s.waitFor('#signin', { timeout: 60000 });
    await s.screenshot('83-settings-restored-sign-in');

    // Signed in again: the change is gone, and the replaced database is listed as kept aside.
    await signIn(s, accounts.owner);
    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('[data-testid="backup-keep"]');
    // The list arrives after the form (the core answers backup_list): read it once it is there.
    await s.waitFor('[data-testid="backup-row"]');
    const keep = await s.exec("return document.querySelector('[data-testid=\"backup-keep\"]').value;");
    assert.equal(keep, '14', 'the restored database keeps 14 again');
    const kinds = await s.exec("return [...document.querySelectorAll('[data-testid=\"backup-row\"] td:nth-child(2)')].map((c) => c.textContent);");
    assert.ok(kinds.includes('Before a restore'), `the replaced database is listed: ${kinds}`);
    await s.screenshot('84-settings-after-restore');
  } finally {
    await s.end();
  }
});
