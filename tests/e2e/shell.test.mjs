// End-to-end tests of the desktop shell itself (src-tauri/src/startup.rs, instance.rs,
// dialogs.rs): a start that cannot open its database says why in a message box (recorded
// through the e2e build's dialog seam) and exits 1 without an empty window; a second start on
// a database already open is refused without touching it, another database opens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Session, startDriver, stopDriver, APP, messageBoxes } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'shell');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

/** Starts the app binary directly (not through WebDriver) and waits for it to exit. */
function runApp(args) {
  return new Promise((resolve) => {
    const child = spawn(APP, args, { env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

/** An empty SQLite database (one empty page) whose `user_version` is `version`: the header
 * layout of https://www.sqlite.org/fileformat.html, so no SQLite tool is needed here. */
function sqliteWithUserVersion(version) {
  const page = Buffer.alloc(4096);
  page.write('SQLite format 3\0', 0, 'latin1');
  page.writeUInt16BE(4096, 16); // page size
  page[18] = 1; // file format write version (legacy)
  page[19] = 1; // read version
  page[21] = 64; // max embedded payload fraction
  page[22] = 32; // min embedded payload fraction
  page[23] = 32; // leaf payload fraction
  page.writeUInt32BE(1, 24); // change counter
  page.writeUInt32BE(1, 28); // size in pages
  page.writeUInt32BE(4, 44); // schema format
  page.writeUInt32BE(1, 56); // text encoding: UTF-8
  page.writeUInt32BE(version, 60); // user_version
  page.writeUInt32BE(1, 92); // version-valid-for = change counter
  page.writeUInt32BE(3045000, 96); // SQLite version that wrote it
  page[100] = 0x0d; // page 1: an empty table leaf (sqlite_schema)
  page.writeUInt16BE(4096, 105); // cell content area starts at the page's end
  return page;
}

async function failedStart(name, contents) {
  const db = join(DIR, name);
  writeFileSync(db, contents);
  const before = readFileSync(db);
  const seenBefore = messageBoxes().length;
  const run = await runApp(['--db', db]);
  const box = messageBoxes().slice(seenBefore);
  assert.equal(run.code, 1, `exit status 1: ${run.stderr.slice(-800)}`);
  assert.ok(readFileSync(db).equals(before), 'the database file is left as it was');
  assert.match(box, /^ResidentDesk could not start\n/, box);
  assert.ok(box.includes(`Database: ${db}`), box);
  assert.match(box, /Log file: \/.*residentdesk-desktop\.\d{4}-\d{2}-\d{2}\.log/, box);
  return box;
}

test('a database saved by a newer version: the box says so, names the log, and the app exits 1', async () => {
  const box = await failedStart('newer.db', sqliteWithUserVersion(9999));
  assert.match(box, /The database was saved by a newer version of ResidentDesk\./, box);
  assert.match(box, /schema version 9999/, box);
});

test('a file that is not a database: the box says so and the app exits 1', async () => {
  const box = await failedStart('notes.db', 'FirstName,LastName\nIris,Importer\n'.repeat(300));
  assert.match(box, /The file is not a ResidentDesk database\./, box);
});

test('a second start on a database already open is refused; another database opens beside it', async () => {
  const first = await Session.start(['--db', join(DIR, 'one.db')]);
  try {
    const seenBefore = messageBoxes().length;
    const second = await runApp(['--db', join(DIR, 'one.db')]);
    const box = messageBoxes().slice(seenBefore);
    assert.equal(second.code, 1, second.stderr.slice(-800));
    assert.match(box, /ResidentDesk is already open on this database in another window\./, box);
    // The first window is still there and answers.
    await first.waitFor('#app > *');
    // Another database is another instance: it opens its database (WebDriver allows one
    // session, so this one is started directly and ended once it said so).
    const two = join(DIR, 'two.db');
    const opened = await new Promise((resolve) => {
      const child = spawn(APP, ['--db', two], { env: process.env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.includes(`opened ${two}`)) child.kill();
      });
      child.on('exit', () => resolve(stderr));
    });
    assert.ok(opened.includes(`opened ${two}`), opened.slice(-800));
  } finally {
    await first.end();
  }
});
