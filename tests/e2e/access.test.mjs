// Access management in the real webview, on a database of its own (demo seeded by the CLI):
// a Team administrator defines a team role, invites someone (sites by checkbox and search;
// the letter to send has the code but no command line and no raw token; Resend is disabled
// with the date it becomes possible), creates an API token (the secret shown
// once) and revokes it, asks "why?" and sees the owner's Remove disabled with the core's
// reason; a Staff user sees what Table-1 withholds disabled with the reason; the invitee
// accepts from the sign-in screen. Screenshots 80-89.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'access');
const DB = join(DIR, 'desk.db');
let invitationText = '';

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync(join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'residentdesk'), ['--db', DB, 'demo', 'seed', '--residents', '600'], { stdio: 'ignore' });
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

const pageText = (s) => s.exec('return document.body.innerText;');

test('a Team administrator manages roles, invitations, tokens and asks why', () =>
  withApp(async (s) => {
    await signIn(s, accounts.team_admin);
    // Roles: define a team add-on role from permissions the admin holds.
    await s.click('[data-testid="nav-roles"]');
    await s.waitFor('[data-testid="role-row"][data-key="team_admin"]');
    await s.type('input[name="role-key"]', 'night_desk');
    await s.type('input[name="role-name"]', 'Night desk');
    await s.click('[data-testid="perm-residents.view"]');
    await s.click('[data-testid="perm-residents.export"]');
    await s.click('[data-testid="add-role"]');
    const row = await s.waitFor('[data-testid="role-row"][data-key="night_desk"]');
    assert.match(await s.text(row), /Residents: See residents, Export residents/);
    await s.screenshot('80-roles-team-admin');

    // Invitations: sites by checkbox (narrowed with the search box), then the letter to send.
    await s.click('[data-testid="nav-invitations"]');
    await s.type('input[name="invite-email"]', 'nora.new@example.test');
    await s.type('input[name="invite-name"]', 'Nora New');
    assert.equal((await s.findAll('select[multiple]')).length, 0, 'no Ctrl-click list');
    const siteNames = await s.exec(`return [...document.querySelectorAll('[data-testid="invite-sites"] label.check')].map((l) => l.innerText.trim());`);
    assert.ok(siteNames.length >= 2, JSON.stringify(siteNames));
    const site = siteNames[1];
    await s.type('[data-testid="invite-site-search"]', site.slice(0, 4));
    const shown = await s.exec(`return [...document.querySelectorAll('[data-testid="invite-sites"] label.check')].map((l) => l.innerText.trim());`);
    assert.ok(shown.includes(site) && shown.length < siteNames.length + 1, JSON.stringify(shown));
    await s.exec(`[...document.querySelectorAll('[data-testid="invite-sites"] label.check')].find((l) => l.innerText.trim() === ${JSON.stringify(site)}).querySelector('input').click();`);
    await s.waitFor('[data-testid="invite-sites-count"]', { text: '1 site chosen' });
    await s.screenshot('81-invitation-form');
    await s.click('[data-testid="invite-create"]');
    await s.waitFor('[data-testid="invitation-text"]');
    invitationText = await s.exec(`return document.querySelector('[data-testid="invitation-text"]').value;`);
    assert.match(invitationText, /^Hello Nora New,/);
    assert.match(invitationText, /nora\.new@example\.test/);
    assert.ok(invitationText.includes(site), invitationText);
    assert.match(invitationText, /rdi(-[0-9a-f]{4}){12}/, 'the code, in groups of four');
    assert.doesNotMatch(invitationText, /residentdesk |--token|rdi_[0-9a-f]{8}_/, 'no command line, no raw token');
    await s.waitFor('[data-testid="invitation-row"]', { text: 'nora.new@example.test' });
    await s.screenshot('82-invitation-letter');
    // Resend is not offered before 2 days: disabled, with the date it becomes possible.
    const invRow = '[data-testid="invitation-row"]:has([data-testid="invite-resend-from"])';
    assert.equal(await s.enabled(`${invRow} [data-testid="invite-resend"]`), false);
    const from = await s.textOf(`${invRow} [data-testid="invite-resend-from"]`);
    assert.match(from, /^Can be resent from .*\d/, from);
    await s.click('[data-testid="invitation-sent"] .end button');
    await s.screenshot('83-invitations-resend-date');

    // API tokens: the secret is shown once, then gone; revoke with confirmation.
    await s.click('[data-testid="nav-tokens"]');
    await s.type('input[name="token-name"]', 'nightly-export');
    await s.click('[data-testid="token-perm-residents.view"]');
    await s.click('[data-testid="token-perm-residents.export"]');
    await s.click('[data-testid="token-create"]');
    await s.waitFor('[data-testid="token-secret"]');
    const secret = await s.exec(`return document.querySelector('[data-testid="token-secret"]').value;`);
    assert.match(secret, /^rdt_[0-9a-f]{8}_[0-9a-f]{40}$/);
    assert.match(await s.textOf('[data-testid="token-secret-panel"]'), /won't see this again/);
    await s.screenshot('84-token-secret-once');
    await s.click('[data-testid="token-secret-done"]');
    assert.equal((await s.findAll('[data-testid="token-secret-panel"]')).length, 0);
    assert.ok(!(await s.exec('return document.documentElement.outerHTML;')).includes(secret), 'the secret is gone');
    await s.waitFor('[data-testid="token-row"][data-name="nightly-export"] [data-testid="token-state"]', { text: 'live' });
    await s.click('[data-testid="token-row"][data-name="nightly-export"] [data-testid="token-revoke"]');
    await s.waitFor('[role="alertdialog"]');
    await s.screenshot('85-token-revoke-confirm');
    await s.click('[data-testid="confirm"]');
    await s.waitFor('[data-testid="token-row"][data-name="nightly-export"] [data-testid="token-state"]', { text: 'revoked' });
    await s.screenshot('86-tokens-revoked');

    // Explain: may the Staff user manage staff users? The core names the rule.
    await s.click('[data-testid="nav-explain"]');
    await s.waitFor('[data-testid="matrix-feature"]');
    await s.choose('select[name="explain-person"]', accounts.staff_user.email);
    await s.choose('select[name="explain-action"]', 'manage_staff_users');
    await s.click('[data-testid="explain-run"]');
    const answer = await s.textOf('[data-testid="explain-answer"]');
    assert.match(answer, /^No:/, answer);
    assert.match(answer, /\(Staff user\) does not allow them to manage staff/, answer);
    await s.waitFor('[data-testid="matrix-summary"]', { text: 'Staff user' });
    await s.screenshot('87-explain');

    // Staff: the owner's Remove is disabled with the core's reason; a Staff user's is not.
    await s.click('[data-testid="nav-staff"]');
    await s.waitFor('[data-testid="remove-reason"]');
    const rows = await s.exec(`return [...document.querySelectorAll('[data-testid="staff-row"]')].map(r => ({
        text: r.innerText,
        disabled: r.querySelector('[data-testid="remove-staff"]').disabled,
        reason: r.querySelector('[data-testid="remove-reason"]')?.innerText ?? '' }));`);
    const owner = rows.find((r) => r.text.includes(accounts.owner.email));
    assert.ok(owner && owner.disabled, JSON.stringify(rows));
    assert.match(owner.reason, /owner/, owner.reason);
    const staff = rows.find((r) => r.text.includes(accounts.staff_user.email));
    assert.ok(staff && !staff.disabled, JSON.stringify(staff));
    await s.screenshot('88-staff-owner-protected');
  }));

test('a Staff user finds none of the access screens in the menu (issue #18)', () =>
  withApp(async (s) => {
    await signIn(s, accounts.staff_user);
    await s.waitFor('[data-testid="nav-residents"]');
    for (const id of ['invitations', 'staff', 'roles', 'tokens', 'explain', 'audit']) {
      assert.equal((await s.findAll(`[data-testid="nav-${id}"]`)).length, 0, `${id} is not listed`);
    }
    assert.equal((await s.findAll('[data-testid="nav-admin"]')).length, 0, 'no Administration heading');
    await s.screenshot('89-menu-staff-user');
  }));

test('the invitee accepts the invitation from the sign-in screen', () =>
  withApp(async (s) => {
    // The code as the letter writes it (groups of four) is what the invitee types or pastes.
    const code = invitationText.match(/rdi(-[0-9a-f]{4}){12}/)?.[0];
    assert.ok(code, 'the first test produced an invitation');
    await s.click('[data-testid="have-invitation"]');
    await s.type('#invite-code', code);
    await s.type('#invite-name', 'Nora New');
    await s.type('#invite-password', 'Nora-Password-2026');
    await s.screenshot('91-accept-invitation');
    await s.click('#invite-accept');
    await s.waitFor('[data-testid="who"]', { text: 'nora.new@example.test' });
    assert.match(await pageText(s), /Staff user/);
    await s.screenshot('92-invitee-signed-in');
  }));
