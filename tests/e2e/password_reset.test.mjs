// Password reset, offline (#18), in the real webview on a database of its own: a Team
// administrator resets a Staff user's password from the Staff screen (a confirmation, then the
// temporary password shown once); the Staff user's old password is refused; signing in with the
// temporary one asks for a new password (two that differ are refused), and the new one opens
// the session. Screenshots r1-r4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'password-reset');
const DB = join(DIR, 'desk.db');
const NEW = 'Sams-Own-Password-2026';

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync('target/debug/residentdesk', ['--db', DB, 'demo', 'seed', '--residents', '50'], { stdio: 'ignore' });
  await startDriver();
});
after(stopDriver);

test('a reset gives a temporary password, and its first sign-in chooses a new one', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    await signIn(s, accounts.team_admin);
    await s.click('[data-testid="nav-staff"]');
    await s.waitFor('[data-testid="staff-row"]');
    await s.waitForContent('tbody', 'the Staff user listed', (t) => t.includes(accounts.staff_user.email));
    const clicked = await s.exec(
      `const row = [...document.querySelectorAll('[data-testid="staff-row"]')].find((r) => r.textContent.includes(arguments[0]));
       const b = row && row.querySelector('[data-testid="reset-password"]');
       if (!b || b.disabled) return false;
       b.click();
       return true;`,
      [accounts.staff_user.email],
    );
    assert.ok(clicked, 'the Team administrator may reset the Staff user (the core says so)');
    await s.waitFor('[data-testid="confirm"]');
    await s.screenshot('r1-reset-confirm');
    await s.click('[data-testid="confirm"]');
    await s.waitFor('[data-testid="temporary-password"]');
    const temporary = await s.exec("return document.querySelector('[data-testid=\"temporary-password-text\"]').value;");
    assert.match(temporary, /^[A-Za-z0-9]{4}(-[A-Za-z0-9]{4}){3}$/, `a readable temporary password: ${temporary}`);
    assert.match(await s.textOf('[data-testid="temporary-password"]'), /works once, until/);
    await s.screenshot('r2-temporary-password');
    // The owner's row: the core refuses a Team administrator there.
    const ownerReset = await s.exec(
      `const row = [...document.querySelectorAll('[data-testid="staff-row"]')].find((r) => r.textContent.includes(arguments[0]));
       return row.querySelector('[data-testid="reset-password"]').disabled;`,
      [accounts.owner.email],
    );
    assert.equal(ownerReset, true, "a Team administrator cannot reset the owner's password");
    await s.exec("[...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Sign out').click();");
    await s.waitFor('#email');

    // The old password no longer works.
    await s.type('#email', accounts.staff_user.email);
    await s.type('#password', accounts.staff_user.password);
    await s.click('#signin');
    await s.waitFor('[data-testid="signin-error"]');

    // The temporary one asks for a new password.
    await s.type('#password', temporary);
    await s.click('#signin');
    await s.waitFor('[data-testid="choose-password"]');
    await s.type('#chosen-password', NEW);
    await s.type('#chosen-password-again', `${NEW}x`);
    await s.click('#chosen-save');
    await s.waitFor('[data-testid="signin-error"]', { text: 'not the same', content: true });
    await s.screenshot('r3-choose-password');
    await s.type('#chosen-password', NEW);
    await s.type('#chosen-password-again', NEW);
    await s.click('#chosen-save');
    await s.waitFor('[data-testid="who"]', { text: accounts.staff_user.title });
    await s.screenshot('r4-signed-in-with-new-password');
  } finally {
    await s.end();
  }
  // The new password works from the CLI too; the temporary one no longer.
  const cli = (password) =>
    execFileSync('target/debug/residentdesk', ['--db', DB, '--as', accounts.staff_user.email, 'site', 'list'], {
      env: { ...process.env, RESIDENTDESK_PASSWORD: password },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
  assert.match(cli(NEW), /Maple Court|site/i);
});
