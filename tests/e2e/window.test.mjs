// End-to-end test of the remembered window (tauri-plugin-window-state, issue #14): a person
// resizes the window, the app ends (the session's end kills it, as a PC switched off would:
// the state is saved after each move, not only on a clean exit — src-tauri/src/window_memory.rs),
// ResidentDesk starts again, and the window comes back at the size they left it. The harness
// gives the app a scratch config folder (XDG_CONFIG_HOME), so what this test saves reaches no
// other run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session, startDriver, stopDriver } from './webdriver.mjs';

const CONFIG = process.env.XDG_CONFIG_HOME;
const STATE = CONFIG ? join(CONFIG, 'com.residentdesk.desktop', '.window-state.json') : undefined;

before(startDriver);
after(stopDriver);

/** Resizes the app's window as a window manager would (X11, through xdotool). */
function resizeWindow(width, height) {
  const ids = execFileSync('xdotool', ['search', '--name', '^ResidentDesk']).toString().trim().split(/\s+/);
  for (const id of ids) execFileSync('xdotool', ['windowsize', id, String(width), String(height)]);
}

async function rect(s) {
  return s.cmd('GET', '/window/rect');
}

/** Waits until the window's size is `width` × `height` (the X server applies it a little later). */
async function waitForSize(s, width, height) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = await rect(s);
    if (last.width === width && last.height === height) return last;
    await sleep(100);
  }
  assert.fail(`the window is ${last.width}×${last.height}, not ${width}×${height}`);
}

/** The saved size of the main window, if any. */
function savedSize() {
  try {
    const main = JSON.parse(readFileSync(STATE, 'utf8')).main;
    return main ? `${main.width}×${main.height}` : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until the window's state file holds `width` × `height`, then ends the app. */
async function endAfterSaved(s, width, height) {
  for (let i = 0; i < 50 && savedSize() !== `${width}×${height}`; i++) await sleep(100);
  await s.end();
}

test('the window comes back at the size the person left it', async () => {
  assert.ok(CONFIG, 'XDG_CONFIG_HOME is not set (run through cargo xtask e2e)');
  const first = await Session.start();
  const started = await rect(first);
  const width = started.width === 1000 ? 1040 : 1000;
  const height = 640;
  resizeWindow(width, height);
  await waitForSize(first, width, height);
  await endAfterSaved(first, width, height);
  assert.ok(existsSync(STATE), `no window state was saved at ${STATE}`);
  assert.equal(savedSize(), `${width}×${height}`, `saved: ${readFileSync(STATE, 'utf8')}`);

  const again = await Session.start();
  try {
    const back = await rect(again);
    assert.equal(back.width, width, `width after a restart: ${JSON.stringify(back)}`);
    assert.equal(back.height, height, `height after a restart: ${JSON.stringify(back)}`);
    await again.screenshot('window-remembered');
  } finally {
    // Leave the default size for whoever starts the app next in this folder.
    resizeWindow(started.width, started.height);
    await waitForSize(again, started.width, started.height).catch(() => {});
    await endAfterSaved(again, started.width, started.height);
  }
});
