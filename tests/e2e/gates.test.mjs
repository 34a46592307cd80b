// One gate (#12): the desktop enables a screen from the core's answer on the use case behind
// it (SessionInfo.gates), not from the person's level. On a database of its own (demo
// seeded by the CLI), a plain Staff user finds no Audit log in the menu (issue #18: the menu
// lists what the core allows);
// then a Team administrator gives that same Staff user the `auditor` add-on role through the
// CLI, and at the next sign-in the Audit log is enabled and lists entries, while the level
// shown is still "Staff user". Screenshots 93-94.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'gates');
const DB = join(DIR, 'desk.db');
const CLI = join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'residentdesk');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync(CLI, ['--db', DB, 'demo', 'seed', '--residents', '200'], { stdio: 'ignore' });
  await startDriver();
});
after(stopDriver);

async function withApp(fn) {
  const s = await Session.start(['--db', DB]);
  try {
    await fn(s);
  } finally {
    await s.end();
  }
}

/** Whether the menu lists the screen (and it is enabled). */
async function nav(s, id) {
  const found = await s.findAll(`[data-testid="nav-${id}"]`);
  return { enabled: found.length > 0 && (await s.enabled(`[data-testid="nav-${id}"]`)), text: found.length ? await s.textOf(`[data-testid="nav-${id}"]`) : '' };
}

test('a plain Staff user finds no Audit log in the menu', () =>
  withApp(async (s) => {
    await signIn(s, accounts.staff_user);
    await s.waitFor('[data-testid="nav-outbox"]');
    const audit = await nav(s, 'audit');
    assert.equal(audit.enabled, false, 'no audit.view: the screen is not listed');
    assert.equal((await nav(s, 'staff')).enabled, false, 'no staff.view');
    assert.equal((await nav(s, 'outbox')).enabled, true, 'residents.view: the outbox is readable');
    await s.screenshot('93-gates-staff-user');
  }));

test('the same Staff user with the auditor add-on finds the Audit log enabled and reads entries', () => {
  // A Team administrator grants the add-on role with the CLI while the app is closed.
  const out = execFileSync(
    CLI,
    ['--db', DB, '--as', accounts.team_admin.email, 'access', 'set', accounts.staff_user.email, '--grant', 'auditor'],
    { env: { ...process.env, RESIDENTDESK_PASSWORD: accounts.team_admin.password }, encoding: 'utf8' },
  );
  assert.match(out, /auditor/, out);
  return withApp(async (s) => {
    await signIn(s, accounts.staff_user);
    // The level is a label only: still a Staff user, yet the core allows the audit log.
    assert.match(await s.textOf('[data-testid="who"]'), /Staff user/);
    const audit = await nav(s, 'audit');
    assert.equal(audit.enabled, true, `audit.view from the auditor role: ${audit.text}`);
    assert.equal((await nav(s, 'staff')).enabled, false, 'the auditor role gives no staff.view');
    await s.click('[data-testid="nav-audit"]');
    await s.waitFor('[data-testid="audit-row"]');
    assert.equal((await s.findAll('[role="alert"]')).length, 0, 'the core answers the list too');
    const rows = await s.findAll('[data-testid="audit-row"]');
    assert.ok(rows.length > 0, 'the audit log shows entries');
    await s.screenshot('94-gates-staff-auditor-audit');
  });
});
