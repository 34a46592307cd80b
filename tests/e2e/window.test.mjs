// The window remembers its size and position (tauri-plugin-window-state): an app ended the
// way the system ends it (SIGTERM at log-out, handled in src-tauri/src/shutdown.rs) writes
// its window's geometry on the way out, and the next start opens the window as it was left.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session, startDriver, stopDriver, APP } from './webdriver.mjs';

const DIR = resolve(join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'window'));
const CONFIG = join(DIR, 'config');
const STATE = join(CONFIG, 'com.residentdesk.desktop', '.window-state.json');
const DB = join(DIR, 'residentdesk.db');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(CONFIG, { recursive: true });
  await startDriver({ XDG_CONFIG_HOME: CONFIG });
});
after(stopDriver);

/** True once the app's web view is up: WebKit starts its web process for it. */
function hasWebProcess(pid) {
  try {
    return execFileSync('pgrep', ['-P', String(pid)]).toString().trim() !== '';
  } catch {
    return false;
  }
}

test('an app ended by SIGTERM saves its window, and the next start restores it', async () => {
  const child = spawn(APP, ['--db', DB], { env: { ...process.env, XDG_CONFIG_HOME: CONFIG }, stdio: 'ignore' });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 300 && !hasWebProcess(child.pid); i++) await sleep(100);
  assert.ok(hasWebProcess(child.pid), 'the app never showed its window');
  await sleep(1500); // the window is mapped and sized
  child.kill('SIGTERM');
  const end = await Promise.race([exited, sleep(20000).then(() => 'still running')]);
  assert.deepEqual(end, { code: 0, signal: null }, 'SIGTERM ends the app cleanly, status 0');
  assert.ok(existsSync(STATE), `no window state written at ${STATE}`);
  const saved = JSON.parse(readFileSync(STATE, 'utf8'));
  assert.equal(saved.main?.width, 1280, `the configured width is saved: ${JSON.stringify(saved)}`);
  assert.equal(saved.main?.height, 800);

  // As if the person had made the window smaller and moved it before closing.
  saved.main = { ...saved.main, width: 1010, height: 650, x: 60, y: 40 };
  writeFileSync(STATE, JSON.stringify(saved));
  const s = await Session.start(['--db', DB]);
  try {
    const size = await s.exec('return [window.innerWidth, window.innerHeight]');
    assert.deepEqual(size, [1010, 650], 'the window opens at the size it was left with');
  } finally {
    await s.end();
  }
});
