// The database passphrase asked at start: with no RESIDENTDESK_DB_KEY and no keyring
// (RESIDENTDESK_NO_KEYRING=1), the window opens on "Database passphrase" instead of a failure
// box. A new database is encrypted with the passphrase chosen there; at the next start a wrong
// passphrase is refused (the core's `key_wrong`) with not one byte of the files changed, and
// the right one reaches sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'passphrase');
const DB = join(DIR, 'desk.db');
const PASSPHRASE = 'Grüne Äpfel 2026 — front desk';

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  // The app (started by the driver, which inherits this environment) gets no key from the
  // environment and none from the keyring.
  delete process.env.RESIDENTDESK_DB_KEY;
  process.env.RESIDENTDESK_NO_KEYRING = '1';
  await startDriver();
});
after(stopDriver);

/** The database file and its WAL, hashed. */
function fingerprint() {
  return ['', '-wal'].map((ext) => {
    const p = DB + ext;
    return existsSync(p) ? createHash('sha256').update(readFileSync(p)).digest('hex') : null;
  });
}

/** The fingerprint once the files stopped changing: the first window's app may still be
 * ending (its last connection checkpoints the WAL into the file and removes it) while the
 * second start already shows its passphrase screen. */
async function settledFingerprint() {
  let last = fingerprint();
  for (let i = 0; i < 15; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = fingerprint();
    if (JSON.stringify(now) === JSON.stringify(last)) return now;
    last = now;
  }
  return last;
}

test('a new database takes the passphrase chosen at start; a wrong one is refused, the right one reaches sign-in', async () => {
  let s = await Session.start(['--db', DB]);
  try {
    await s.waitFor('[data-testid="passphrase-screen"]');
    await s.waitFor('h1', { text: 'Database passphrase' });
    await s.type('#db-passphrase', PASSPHRASE);
    await s.type('#db-passphrase-again', PASSPHRASE);
    await s.screenshot('95-passphrase-new');
    await s.click('#db-open');
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
  } finally {
    await s.end();
  }
  // The first app ends after its session: its last connection checkpoints the WAL into the
  // file and removes it. Wait for that, so the next start's files are at rest.
  for (let i = 0; i < 300 && existsSync(DB + '-wal'); i++) await new Promise((r) => setTimeout(r, 100));
  const head = readFileSync(DB).subarray(0, 16).toString('latin1');
  assert.notEqual(head, 'SQLite format 3\u0000', 'the new database is encrypted');

  s = await Session.start(['--db', DB]);
  try {
    await s.waitFor('[data-testid="passphrase-screen"]');
    assert.equal(await s.exec(`return !!document.querySelector('#db-passphrase-again');`), false, 'an existing database asks once');
    const before = await settledFingerprint();
    await s.type('#db-passphrase', 'not the passphrase');
    await s.click('#db-open');
    const error = await s.textOf('[data-testid="passphrase-error"]');
    assert.match(error, /key of the database is wrong/, error);
    await s.screenshot('96-passphrase-wrong');
    assert.deepEqual(fingerprint(), before, 'a wrong passphrase changes nothing');
    await s.type('#db-passphrase', PASSPHRASE);
    await s.click('#db-open');
    await s.waitFor('#signin');
    await s.screenshot('97-passphrase-sign-in');
  } finally {
    await s.end();
  }
});
