// End-to-end tests of the desktop app in the real WebKitGTK webview (run by `cargo xtask
// test` under Xvfb). They share one database, in order: first run seeds the demo, then each
// permission level signs in and sees what the core allows, then a Team administrator adds,
// edits and terminates a resident, sees a rule error at its field and runs a bulk action,
// and last an account is locked by failed sign-ins. Every screen is saved as a screenshot.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Session, startDriver, stopDriver, signIn, accounts, SHOTS, APP, answerDialog, messageBoxes } from './webdriver.mjs';

before(startDriver);
after(stopDriver);

async function withApp(fn) {
  const s = await Session.start();
  try {
    await fn(s);
  } finally {
    await s.end();
  }
}

test('first run offers the demo portfolio, synced with an in-process simulated Site Manager', () =>
  withApp(async (s) => {
    await s.waitFor('[data-testid="seed-demo"]');
    await s.click('[data-testid="connect-remote"]');
    await s.waitFor('legend', { text: 'Site Manager connection', content: true });
    await s.screenshot('01-first-run');
    await s.click('[data-testid="connect-remote"]');
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    const remote = await s.exec("return document.querySelector('[data-testid=\"demo-remote\"]')?.textContent ?? '';");
    assert.match(remote, /^http:\/\/127\.0\.0\.1:\d+\/v2$/, 'the demo names its simulated remote');
    await s.screenshot('02-demo-ready');
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    await s.screenshot('03-sign-in');
    // The first sync links every demo resident to its simulated twin: nothing pending, no
    // conflict, no error.
    await signIn(s, accounts.team_admin);
    const signedIn = Date.now();
    await s.waitFor('[data-testid="sync-bar"]', { text: 'last sync', timeout: 60000, content: true }).catch(async (e) => {
      const status = await s
        .exec("return window.__TAURI_INTERNALS__.invoke('sync_status').then((v) => JSON.stringify(v), (e) => 'error ' + JSON.stringify(e));")
        .catch((err) => `(cannot ask the app: ${err.message})`);
      console.log(`sync status when the wait ended: ${status}`);
      throw e;
    });
    console.log(`demo: sign-in to the first sync's end ${Date.now() - signedIn} ms`);
    const bar = await s.exec("return document.querySelector('[data-testid=\"sync-bar\"]').textContent;");
    assert.match(bar, /Online/);
    assert.doesNotMatch(bar, /pending|rejected|conflict|Offline/);
    await s.screenshot('04-demo-synced');
  }));

// What each demo account may open: the core's gates of staff.list and audit.list for the
// built-in roles it holds (the UI displays them; see gates.test.mjs for an add-on role).
const levels = [
  { key: 'team_admin', staff: true, audit: true },
  { key: 'team_user', staff: true, audit: false },
  { key: 'staff_local_admin', staff: true, audit: false },
  { key: 'staff_user', staff: false, audit: false },
];

for (const level of levels) {
  test(`${level.key} sees exactly what the core allows`, () =>
    withApp(async (s) => {
      await signIn(s, accounts[level.key]);
      await s.waitFor('[data-testid="resident-row"]', { timeout: 20000 });
      await s.screenshot(`10-residents-${level.key}`);
      assert.equal(await s.enabled('[data-testid="add-resident"]'), true, 'every level manages residents');
      // The menu lists what the core allows and nothing else (issue #18: no disabled entries).
      const listed = async (id) => (await s.findAll(`[data-testid="nav-${id}"]`)).length > 0;
      assert.equal(await listed('staff'), level.staff, 'staff screen');
      assert.equal(await listed('audit'), level.audit, 'audit log');
      await s.click('[data-testid="nav-sites"]');
      const scope = await s.textOf('[data-testid="sites-scope"]');
      assert.equal(scope.includes('You can edit site settings'), level.key === 'team_admin', scope);
      await s.screenshot(`11-sites-${level.key}`);
      if (level.staff) {
        await s.click('[data-testid="nav-staff"]');
        await s.waitFor('[data-testid="staff-row"]');
        await s.screenshot(`12-staff-${level.key}`);
      }
      if (level.audit) {
        await s.click('[data-testid="nav-audit"]');
        await s.waitFor('[data-testid="audit-row"]');
        // The core's check of the hash chain, shown on the screen.
        await s.waitFor('[data-testid="audit-chain-ok"]');
        assert.match(await s.textOf('[data-testid="audit-chain-ok"]'), /Verified [\d,]+ rows?/);
        await s.screenshot(`13-audit-${level.key}`);
      }
      await s.click('[data-testid="nav-settings"]');
      await s.waitFor('[aria-label="Sync with the remote"]');
      const readOnly = (await s.findAll('[data-testid="settings-reason"]')).length > 0;
      assert.equal(readOnly, level.key !== 'team_admin', 'only Team administrators edit the sync settings');
      await s.screenshot(`14-settings-${level.key}`);
      assert.ok((await s.textOf('[data-testid="sync-bar"]')).length > 0, 'the sync bar is shown');
    }));
}

test('a Team administrator adds, edits and terminates a resident; a rule error shows at its field', () =>
  withApp(async (s) => {
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 20000 });
    await s.click('[data-testid="add-resident"]');
    await s.waitFor('[data-testid="resident-form"]');
    await s.type('input[name="first_name"]', 'Edith');
    await s.type('input[name="last_name"]', 'Endtoend');
    await s.type('input[name="email"]', 'edith.endtoend@example.test');
    await s.chooseIndex('select[name="building"]', 1);
    await s.chooseIndex('select[name="floor"]', 1);
    // A free unit: try units until the core accepts one (occupied units are a rule error too).
    await s.type('input[name="start"]', '2026-05-01');
    await s.type('input[name="end"]', '2026-04-01');
    await s.chooseIndex('select[name="unit"]', 1);
    await s.screenshot('20-resident-form');
    await s.click('[data-testid="save-resident"]');
    const endError = await s.textOf('[data-testid="error-end"]');
    assert.match(endError, /end|before|after/i, endError);
    assert.equal(await s.attr('input[name="end"]', 'aria-invalid'), 'true');
    await s.screenshot('21-resident-form-rule-error');
    await s.type('input[name="end"]', '');
    let saved = false;
    for (let unit = 1; unit < 30 && !saved; unit++) {
      const chosen = await s.chooseIndex('select[name="unit"]', unit);
      if (chosen === null) break;
      await s.click('[data-testid="save-resident"]');
      for (let i = 0; i < 30; i++) {
        if ((await s.findAll('[data-testid="resident-detail"]')).length > 0) {
          saved = true;
          break;
        }
        if ((await s.findAll('[data-testid="error-unit"]')).length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      if (!saved && unit === 1) await s.screenshot('22-resident-form-unit-occupied');
    }
    assert.ok(saved, 'the resident was saved');
    await s.waitFor('[data-testid="resident-detail"]', { text: 'edith.endtoend@example.test' });
    await s.screenshot('23-resident-detail');

    await s.click('[data-testid="edit-resident"]');
    await s.waitFor('[data-testid="resident-form"]');
    assert.equal(await s.enabled('input[name="email"]'), false, 'the email is locked after creation');
    await s.type('input[name="first_name"]', 'Edwina');
    await s.screenshot('24-resident-edit');
    await s.click('[data-testid="save-resident"]');
    await s.waitFor('#detail-h', { text: 'Edwina Endtoend' });

    await s.click('[data-testid="terminate"]');
    await s.waitFor('[data-testid="confirm"]');
    await s.screenshot('25-terminate-confirm');
    await s.click('[data-testid="confirm"]');
    await s.waitFor('[data-testid="resident-detail"] .chip.ended');
    await s.screenshot('26-resident-terminated');
    await s.click('button[aria-label="Close resident details"]');

    await s.search('edwina');
    await s.waitFor('[data-testid="count"]', { text: '1 resident' });
    await s.screenshot('27-search');
    await s.search('');
    await s.waitFor('[data-testid="resident-row"]');

    await s.click('[data-testid="nav-outbox"]');
    await s.waitFor('[data-testid="outbox-row"]');
    await s.screenshot('30-outbox');
    await s.click('[data-testid="nav-audit"]');
    await s.waitFor('[data-testid="audit-row"]', { text: 'resident' });
    await s.screenshot('31-audit');
  }));

test('multi-select and a bulk action', () =>
  withApp(async (s) => {
    await signIn(s, accounts.team_admin);
    await s.choose('[data-testid="status-filter"]', 'active');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 20000 });
    // Two active residents without a marker (onboarded): both can be suspended.
    await s.exec(`[...document.querySelectorAll('[data-testid="resident-row"]')].filter((r) => !r.querySelector('[data-marker]')).slice(0, 2).forEach((r) => r.querySelector('.c-check input').click()); return true;`);
    await s.waitFor('[data-testid="bulk-preview"]', { text: '2 of 2 selected can be suspended' });
    await s.waitFor('[data-testid="bulk-action"]');
    await s.choose('[data-testid="bulk-action"]', 'suspend');
    await s.screenshot('40-bulk-selection');
    await s.click('[data-testid="bulk-apply"]');
    const notice = await s.textOf('[data-testid="notice"]');
    assert.match(notice, /^Suspend: \d+ done, \d+ not applicable/, notice);
    const [done, skipped] = notice.match(/\d+/g).map(Number);
    assert.equal(done + skipped, 2, 'both selected residents are reported');
    await s.screenshot('41-bulk-done');
  }));

test('import a CSV file chosen in the Open dialog (dry run, then commit) and export one through Save As', () =>
  withApp(async (s) => {
    const csv = join(process.env.RESIDENTDESK_DB ? join(process.env.RESIDENTDESK_DB, '..') : SHOTS, 'import.csv');
    writeFileSync(
      csv,
      'FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n' +
        'Iris,Importer,iris.importer@example.test,,C,7,C716,2026-12-01,\n' +
        'Bad,Email,not-an-email,,A,1,102,2026-12-01,\n',
    );
    await signIn(s, accounts.team_admin);
    await s.click('[data-testid="nav-import"]');
    // A cancelled Open dialog: nothing chosen, no error.
    answerDialog('open', '');
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'No file chosen' });
    assert.equal(await s.exec("return document.querySelectorAll('.notice.error').length;"), 0, 'no error for a cancel');
    answerDialog('open', csv);
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'import.csv' });
    await s.click('[data-testid="import-preview"]');
    const report = await s.textOf('[data-testid="import-report"]');
    assert.match(report, /2 rows/, report);
    assert.match(report, /not-an-email/, report);
    await s.screenshot('60-import-dry-run');
    // Commit the valid row only.
    await s.click('[data-testid="import-valid-only"]');
    await s.click('[data-testid="import-commit"]');
    await s.waitFor('[data-testid="import-report"]', { text: '1 imported' });
    await s.screenshot('63-import-valid-only');

    // A long file: the check shows how far it has read (events every 1,000 rows).
    const big = join(dirname(csv), 'import-big.csv');
    let rows = 'FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n';
    for (let i = 0; i < 20000; i++) rows += `Row${i},Big,row${i}@big.example.test,,A,1,101,2026-12-01,\n`;
    writeFileSync(big, rows);
    await s.exec(`window.__progressSeen = [];
      new MutationObserver(() => {
        const busy = document.querySelector('[data-testid="busy"]');
        if (busy && busy.querySelector('progress')) window.__progressSeen.push(busy.textContent.trim());
      }).observe(document.body, { subtree: true, childList: true, characterData: true });`);
    answerDialog('open', big);
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'import-big.csv' });
    const started = Date.now();
    await s.click('[data-testid="import-preview"]');
    // A second start on this database while the first is checking the file: it does not
    // open the database; it says the database is open in another window and exits non-zero
    // (under Xvfb there is no D-Bus session, so the lock file is what refuses it; with one,
    // the first window is focused instead and the second exits 0).
    const second = await new Promise((resolve) => {
      const child = spawn(APP, [], { env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('exit', (code) => resolve({ code, stderr }));
    });
    assert.equal(second.code, 1, `the second start exits 1: ${second.stderr.slice(-500)}`);
    assert.match(messageBoxes(), /ResidentDesk could not start\nResidentDesk is already open on this database in another window\./);
    assert.match(messageBoxes(), /Log file: .*residentdesk-desktop\.\d{4}-\d{2}-\d{2}\.log/);
    await s.waitFor('[data-testid="import-report"]', { text: '20,000 rows', timeout: 60000 });
    const took = Date.now() - started;
    const seen = await s.exec('return window.__progressSeen;');
    assert.ok(seen.length > 0, 'a progress bar was shown while the file was checked');
    assert.match(seen[seen.length - 1], /\d[\d,]* rows read \(\d+ %\)/, seen.join(' | '));
    console.log(`import check of 20,000 rows (1.1 MB) in the debug build: ${took} ms, ${seen.length} progress updates, last "${seen[seen.length - 1]}"`);
    // A cancelled Save As: nothing written, nothing said.
    answerDialog('save', '');
    await s.click('[data-testid="export-run"]');
    await s.waitFor('[data-testid="export-run"]:not([disabled])');
    const afterCancel = await s.exec("return [document.querySelectorAll('[data-testid=\"export-result\"], .notice.error').length, [...document.querySelectorAll('[data-testid=\"notice\"]')].map((n) => n.textContent).join(' | ')];");
    assert.equal(afterCancel[0], 0, 'no result and no error for a cancel');
    assert.doesNotMatch(afterCancel[1], /Exported/, afterCancel[1]);
    const target = join(dirname(csv), 'chosen-by-save-as.csv');
    answerDialog('save', target);
    await s.click('[data-testid="export-run"]');
    const exported = await s.textOf('[data-testid="export-result"]');
    assert.ok(exported.includes(`written to ${target}`), exported);
    assert.match(readFileSync(target, 'utf8'), /FirstName,LastName/, 'the chosen file holds the CSV');
    assert.ok(!existsSync(`${target}.partial`), 'no partial file is left');
    await s.screenshot('61-export-done');
    await s.click('[data-testid="nav-conflicts"]');
    await s.waitFor('#conflicts-h');
    await s.screenshot('62-conflicts');
  }));

test('five wrong passwords lock the email: the notice says until when and who can help', () =>
  withApp(async (s) => {
    for (let i = 0; i < 4; i++) {
      await s.type('#email', accounts.owner.email);
      await s.type('#password', 'wrong-password');
      await s.click('#signin');
      await s.waitFor('[data-testid="signin-error"]', { text: 'wrong email or password' });
      await s.exec('document.querySelector(\'[data-testid="signin-error"]\')?.remove()');
    }
    // The fifth wrong password locks: the notice says until when, in this computer's time.
    await s.type('#email', accounts.owner.email);
    await s.type('#password', 'wrong-password');
    await s.click('#signin');
    const notice = await s.textOf('[data-testid="signin-locked"]');
    assert.match(notice, /Signing in is paused/, notice);
    assert.match(notice, /try again at \d{1,2}:\d{2}/, notice);
    assert.match(notice, /A Team administrator can reset it/, notice);
    // Locked: the right password is refused too, with the same notice (the audit log keeps
    // the reason), and the person stays on the sign-in screen.
    await s.exec('document.querySelector(\'[data-testid="signin-locked"]\')?.remove()');
    await s.type('#email', accounts.owner.email);
    await s.type('#password', accounts.owner.password);
    await s.click('#signin');
    assert.equal(await s.textOf('[data-testid="signin-locked"]'), notice);
    assert.ok(await s.find('#signin'), 'still on the sign-in screen');
    assert.equal((await s.findAll('[data-testid="who"]')).length, 0, 'not signed in');
    await s.screenshot('50-sign-in-locked');
  }));
