// Import at scale in the real webview, on a database of its own (demo seeded by the CLI): a
// generated file of 20,000 rows with several kinds of problems is checked; the report shows
// the problems grouped by kind with their counts and first rows (not one line each); the
// Import button counts the one valid row ("Import 1 resident") and is disabled until "valid
// rows only" is ticked; "Download the problems" saves the person's rows and columns plus a
// Problem column (read back here); "Download a template" saves the import's header and an
// example row; after the import the button is gone. One app start. Screenshots 64-66.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts, answerDialog } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'import-scale');
const DB = join(DIR, 'desk.db');
// The CLI of the core's target directory (CARGO_TARGET_DIR when the run sets one).
const CLI = join(process.env.CARGO_TARGET_DIR ?? 'target', 'debug', 'residentdesk');
const ROWS = 20000;

/** The CLI's JSON answer, as the Team administrator. */
function cli(args) {
  const env = { ...process.env, RESIDENTDESK_PASSWORD: accounts.team_admin.password };
  return JSON.parse(execFileSync(CLI, ['--db', DB, '--as', accounts.team_admin.email, '--json', ...args], { env }).toString());
}

let site = '';
let header = '';
before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync(CLI, ['--db', DB, 'demo', 'seed', '--residents', '300'], { stdio: 'ignore' });
  // A unit of the admin's first site that nobody occupies: the one valid row goes there.
  const first = cli(['site', 'list']).sites[0];
  site = first.name;
  const taken = new Set(cli(['resident', 'list', '--site', String(first.id)]).residents.map((r) => `${r.building}/${r.floor}/${r.unit}`));
  const free = cli(['site', 'mappings', String(first.id)]).mappings.find((m) => !taken.has(`${m.building}/${m.floor}/${m.unit}`));
  assert.ok(free, 'the demo site has a free unit');
  // The Site Manager template's words plus a column of the person's own (kept in the
  // problems file, ignored by the import).
  header = 'First Name,Last Name,Email,Building,Floor,Unit,Access Start,Notes';
  const lines = [header, `Vera,Valid,vera.valid@import.example.test,${free.building},${free.floor},${free.unit},2027-01-15,the only good row`];
  for (let i = 0; i < ROWS - 1; i++) {
    // Every problem row is also in a unit the site does not have (Z/9/i, each its own).
    const unit = `Z,9,${i}`;
    if (i % 4 === 0) lines.push(`Bad${i},Email,not-an-email-${i},${unit},2027-01-15,note ${i}`);
    else if (i % 4 === 1) lines.push(`,Nameless,nameless${i}@import.example.test,${unit},2027-01-15,note ${i}`);
    else if (i % 4 === 2) lines.push(`Una${i},Unit,una${i}@import.example.test,${unit},2027-01-15,note ${i}`);
    else lines.push(`Dup${i},Twice,twice@import.example.test,${unit},2027-01-15,note ${i}`);
  }
  writeFileSync(join(DIR, 'residents-20000.csv'), `${lines.join('\n')}\n`);
  await startDriver();
});
after(stopDriver);

test('20,000 rows: problems by kind, the problems file, a template, the button counts right', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    await signIn(s, accounts.team_admin);
    await s.click('[data-testid="nav-import"]');
    await s.choose('[data-testid="import-site"]', site);

    // The template: the import's header and one example row, saved where the person chose.
    const template = join(DIR, 'template.csv');
    answerDialog('save', template);
    await s.click('[data-testid="import-template"]');
    await s.waitFor('.oks [data-testid="notice"]:last-child', { text: 'Template saved to' });
    const t = readFileSync(template, 'utf8').split('\r\n');
    assert.equal(t[0], 'First Name,Last Name,Email,Phone Number,Building,Floor,Unit,Access Start,Access End');
    assert.equal(t[1].split(',').length, 9, t[1]);
    assert.ok(!existsSync(`${template}.partial`));

    // Check the big file: grouped problems with counts, not 20,000 lines.
    answerDialog('open', join(DIR, 'residents-20000.csv'));
    await s.click('[data-testid="import-choose"]');
    await s.waitFor('[data-testid="import-file"]', { text: 'residents-20000.csv' });
    await s.click('[data-testid="import-preview"]');
    await s.waitFor('[data-testid="import-report"]', { text: '20,000 rows', timeout: 120000 });
    const groups = await s.exec(`return [...document.querySelectorAll('[data-testid="import-group"]')].map((r) => [...r.cells].map((c) => c.innerText.trim()));`);
    const count = (title) => groups.find((g) => g[0] === title)?.[1];
    // Rows without a first name are not checked against the site's units.
    assert.equal(count('Unit not found at this site'), '14,999 rows', JSON.stringify(groups));
    assert.equal(count('Email is not valid'), '5,000 rows', JSON.stringify(groups));
    assert.equal(count('First name is missing'), '5,000 rows', JSON.stringify(groups));
    assert.equal(count('Email twice in this file'), '4,998 rows', JSON.stringify(groups));
    assert.ok(groups.length <= 6, `a handful of groups, not a line per problem: ${JSON.stringify(groups)}`);
    const invalid = groups.find((g) => g[0] === 'Email is not valid');
    assert.equal(invalid[2], '3, 7, 11, 15, 19 and more', 'the first rows, as the spreadsheet numbers them');
    assert.match(invalid[3], /^not-an-email-0 Email needs an @/, invalid[3]);
    // One valid row: the button says so, and waits for "valid rows only".
    assert.equal(await s.textOf('[data-testid="import-commit"]'), 'Import 1 resident');
    assert.equal(await s.enabled('[data-testid="import-commit"]'), false);
    assert.match(await s.textOf('[data-testid="import-hint"]'), /Only the valid rows can be imported/);
    await s.screenshot('64-import-20000-grouped');

    // The problems file: the person's rows and columns, plus what to fix.
    const problems = join(DIR, 'problems.csv');
    answerDialog('save', problems);
    await s.click('[data-testid="import-problems"]');
    await s.waitFor('.oks [data-testid="notice"]:last-child', { text: 'with problems saved to', timeout: 120000 });
    const lines = readFileSync(problems, 'utf8').replace(/^\uFEFF/, '').split('\r\n').filter((l) => l !== '');
    assert.equal(lines.length, ROWS, 'the header and the 19,999 rows with problems');
    assert.equal(lines[0], `${header},Problem`);
    assert.ok(lines[1].startsWith('Bad0,Email,not-an-email-0,Z,9,0,2027-01-15,note 0,'), lines[1]);
    assert.match(lines[1], /Email is invalid.*not one of the site's mappings/, lines[1]);
    assert.ok(lines[2].startsWith(',Nameless,nameless1@import.example.test,Z,9,1,'), lines[2]);
    assert.ok(!lines.some((l) => l.includes('vera.valid')), 'the valid row is not a problem');
    assert.ok(!existsSync(`${problems}.partial`));

    // Import the valid row only: then the button is gone (nothing left to import).
    await s.click('[data-testid="import-valid-only"]');
    assert.equal(await s.enabled('[data-testid="import-commit"]'), true);
    await s.screenshot('65-import-valid-only-ready');
    await s.click('[data-testid="import-commit"]');
    await s.waitFor('[data-testid="import-report"]', { text: '1 imported', timeout: 120000 });
    assert.equal((await s.findAll('[data-testid="import-commit"]')).length, 0, 'no Import button after the import');
    assert.equal((await s.findAll('[data-testid="import-problems"]')).length, 0, 'the problems were downloaded before; a check now would count the imported row');
    await s.screenshot('66-import-done');
  } finally {
    await s.end();
  }
});
