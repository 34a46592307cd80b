// Plain words (#16, #18): the visible text of the main screens — Residents with the sidebar's
// reasons, a resident's detail and the result of an action, the Outbox, Conflicts, Explain and
// an Import with problems — holds no Site Manager API field name, no snake_case id and no
// permission id, in English and in Spanish. The terms are the ones the catalog's Vitest uses
// (ui/src/lib/i18n/technical-terms.json); what a person opens on purpose to see ids (elements
// marked `data-technical`: Explain's Advanced view) is left out. One app start, on a
// database of its own (demo seeded by the CLI).
// Screenshots p1-p6.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, answerDialog } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'plain');
const DB = join(DIR, 'desk.db');
const CSV = join(DIR, 'problems.csv');

const terms = JSON.parse(readFileSync(new URL('../../ui/src/lib/i18n/technical-terms.json', import.meta.url), 'utf8'));
const API = terms.api_names.filter((n) => !terms.plain_words_too.includes(n));
const API_RE = new RegExp(`\\b(${API.join('|')})\\b`, 'g');
const SNAKE_RE = /\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b/g;
const PERM_RE = new RegExp(`(?<![\\w.@])(${terms.permissions.map((p) => p.replace('.', '\\.')).join('|')})(?![\\w.])`, 'g');
/** The technical terms in a text (the same rule as ui/src/lib/i18n/plainWords.ts). */
const technical = (text) => [...text.matchAll(API_RE), ...text.matchAll(SNAKE_RE), ...text.matchAll(PERM_RE)].map((m) => m[0]);

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync('target/debug/residentdesk', ['--db', DB, 'demo', 'seed', '--residents', '200'], { stdio: 'ignore' });
  // API column headers on purpose: the report must still name the fields in words.
  writeFileSync(
    CSV,
    'FirstName,LastName,Email,PhoneNumber,Building,Floor,Unit,ActivationDateUTC,DeactivationDateUTC\n' +
      ',Nameless,nameless@example.test,,A,1,101,2026-12-01,\n' +
      'Back,Wards,back.wards@example.test,,A,1,102,2026-12-10,2026-12-01\n' +
      'Twice,Over,nameless@example.test,,A,1,103,2026-12-01,\n',
  );
  await startDriver();
});
after(stopDriver);

/** The text a person sees now (the whole window), without what is marked technical. */
async function visibleText(s) {
  return s.exec(`const hidden = [...document.querySelectorAll('[data-technical]')];
    const was = hidden.map((e) => e.style.display);
    hidden.forEach((e) => (e.style.display = 'none'));
    const text = document.body.innerText;
    hidden.forEach((e, i) => (e.style.display = was[i]));
    return text;`);
}

/** Fails naming the screen and the terms when the visible text holds any. */
async function plain(s, where) {
  const text = await visibleText(s);
  assert.ok(text.trim().length > 0, `${where}: no text`);
  assert.deepEqual(technical(text), [], `${where} shows technical terms:\n${text}`);
  return text;
}

async function waitGone(s, css) {
  for (let i = 0; i < 50 && (await s.exec(`return document.querySelector(arguments[0]) !== null;`, [css])); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the main screens speak plain words: no API names, snake_case ids or permission ids', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    // The language is the OS's (English here): a choice another run left on this desk goes.
    if (await s.exec('return localStorage.getItem("residentdesk.locale");')) {
      await s.exec('localStorage.removeItem("residentdesk.locale"); location.reload();');
      await s.waitFor('#email');
    }
    // A Staff user: the residents, and a sidebar that lists only what they may open (issue
    // #18: no closed entries with reasons).
    await signIn(s, accounts.staff_user);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    const residents = await plain(s, 'Residents (Staff user)');
    assert.doesNotMatch(residents, /Audit log|does not allow you/, residents);
    await s.screenshot('p1-residents-staff-reasons');

    // A resident's detail, and what an action did (the result is said, not coded).
    await s.click('[data-testid="open-resident"]');
    await s.waitFor('[data-testid="resident-detail"]');
    await plain(s, 'Resident detail');
    await s.click('[data-testid="suspend"]');
    const notice = await s.textOf('[data-testid="notice"]');
    assert.match(notice, /access is suspended\.|Nothing to change/, notice);
    await plain(s, 'Resident detail after Suspend');
    await s.screenshot('p2-detail-suspended');
    await s.click('[data-testid="resident-detail"] button[aria-label]');
    await waitGone(s, '[data-testid="resident-detail"]');

    // The outbox holds that change, named in words; no conflicts here.
    await s.click('[data-testid="nav-outbox"]');
    await s.waitFor('[data-testid="outbox-row"]');
    await plain(s, 'Outbox');
    await s.click('[data-testid="nav-conflicts"]');
    await s.waitFor('[data-testid="no-conflicts"]');
    await plain(s, 'Conflicts');

    // Explain is an administration screen (issue #18): a Staff user's menu does not list it.
    assert.equal((await s.findAll('[data-testid="nav-explain"]')).length, 0, 'no Explain for a Staff user');

    // A Team administrator imports a file with API headers and problems: the report names
    // the fields and the problems in words.
    await s.click('[data-testid="sign-out"]');
    await signIn(s, accounts.team_admin);
    await s.click('[data-testid="nav-import"]');
    answerDialog('open', CSV);
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'problems.csv' });
    await s.click('[data-testid="import-preview"]');
    const report = await s.textOf('[data-testid="import-report"]');
    assert.match(report, /First name is required\./, report);
    assert.match(report, /Access end must be after access start/, report);
    assert.match(report, /already on row 2 of this file/, report);
    await plain(s, 'Import with problems');
    await s.screenshot('p4-import-problems');

    // Explain about someone else: the refusal speaks of them.
    await s.click('[data-testid="nav-explain"]');
    await s.waitFor('[data-testid="matrix-feature"]');
    await s.choose('select[name="explain-person"]', accounts.staff_user.email);
    await s.choose('select[name="explain-action"]', 'residents.purge');
    await s.click('[data-testid="explain-run"]');
    const about = await s.textOf('[data-testid="explain-answer"]');
    assert.doesNotMatch(about, /Your role/, about);
    await plain(s, 'Explain (about a Staff user)');
    await s.screenshot('p5-explain-about-staff-user');

    // The same screens in Spanish.
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-language"]', 'es');
    await s.click('[data-testid="nav-import"]');
    answerDialog('open', CSV);
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'problems.csv' });
    await s.click('[data-testid="import-preview"]');
    const informe = await s.textOf('[data-testid="import-report"]');
    assert.match(informe, /Nombre es obligatorio\./, informe);
    await plain(s, 'Import with problems (Spanish)');
    await s.click('[data-testid="nav-explain"]');
    await s.waitFor('[data-testid="matrix-feature"]');
    await plain(s, 'Explain (Spanish)');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await plain(s, 'Residents (Spanish)');
    await s.screenshot('p6-residents-es');
  } finally {
    // Back to the OS's language on this desk, whatever happened (the choice outlives the app).
    await s.exec('localStorage.removeItem("residentdesk.locale");').catch(() => {});
    await s.end();
  }
});
