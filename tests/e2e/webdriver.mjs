// A small W3C WebDriver client (fetch only) and the harness that starts tauri-driver, which
// starts WebKitWebDriver, which starts the real ResidentDesk binary in WebKitGTK.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
/** The id of a web element reference (W3C key, or the legacy `ELEMENT`). */
function elementId(ref) {
  const id = ref?.[ELEMENT] ?? ref?.ELEMENT;
  if (typeof id !== 'string') throw new Error(`not an element reference: ${JSON.stringify(ref)}`);
  return id;
}
export const APP = process.env.RESIDENTDESK_APP;
export const SHOTS = process.env.SCREENSHOTS ?? 'target/screenshots';
/** The e2e build's dialog seam (src-tauri/src/dialogs.rs): answers and message boxes as files. */
export const DIALOGS = process.env.RESIDENTDESK_E2E_DIALOGS;
/** Answers the next native `save` or `open` dialog with `path` ('' = cancelled). */
export function answerDialog(which, path) {
  if (!DIALOGS) throw new Error('RESIDENTDESK_E2E_DIALOGS is not set (run through cargo xtask e2e)');
  mkdirSync(DIALOGS, { recursive: true });
  writeFileSync(join(DIALOGS, which), path);
}
/** The message boxes the app showed so far (title, text, '---'). */
export function messageBoxes() {
  try {
    return readFileSync(join(DIALOGS, 'messages'), 'utf8');
  } catch {
    return '';
  }
}
const PORT = Number(process.env.TAURI_DRIVER_PORT ?? 4444);
// WebKitWebDriver's own port, behind tauri-driver's: the next one, so that a run on another
// TAURI_DRIVER_PORT (e.g. while a stray driver holds 4444/4445) needs no other setting.
const NATIVE_PORT = Number(process.env.TAURI_NATIVE_PORT ?? PORT + 1);
const BASE = `http://127.0.0.1:${PORT}`;

async function wd(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  }
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    const err = new Error(`${method} ${path}: ${v.error ?? res.status}: ${v.message ?? text.slice(0, 300)}`);
    err.webdriver = v.error;
    throw err;
  }
  return json.value;
}

let driver;
/** Starts tauri-driver once and waits until it answers. The apps it starts inherit its
 * environment: English (the tests select some elements by their English text) whatever the
 * machine's language, unless `env` says otherwise (e.g. `{ LANG: 'es_ES.UTF-8', LANGUAGE:
 * 'es' }`, or `{ GTK_THEME: 'Adwaita:dark' }` for the dark theme). */
export async function startDriver(env = {}) {
  if (driver) return;
  driver = spawn('tauri-driver', ['--port', String(PORT), '--native-port', String(NATIVE_PORT)], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, LANG: 'C.UTF-8', LANGUAGE: '', LC_ALL: '', LC_MESSAGES: '', ...env },
  });
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(`${BASE}/status`);
      return;
    } catch {
      await sleep(100);
    }
  }
  throw new Error('tauri-driver did not start');
}
export function stopDriver() {
  driver?.kill();
  driver = undefined;
  // Now and then (seen on a loaded machine) an app outlives its WebDriver session: it would
  // hold its database's lock for the next file's tests and keep this file's output open,
  // so the runner would wait for it forever. A test file's apps end with the file.
  if (APP) {
    try {
      execFileSync('pkill', ['-f', `^${APP}`]);
    } catch {
      /* none left: the usual case */
    }
  }
}

export class Session {
  constructor(id) {
    this.id = id;
  }
  /** Launches the app (with `args`, e.g. `['--db', path]`) in a new WebDriver session. */
  static async start(args = []) {
    if (!APP) throw new Error('RESIDENTDESK_APP is not set');
    const value = await wd('POST', '/session', {
      capabilities: { alwaysMatch: { 'tauri:options': { application: APP, args } } },
    });
    const s = new Session(value.sessionId);
    try {
      await s.waitFor('#app > *');
    } catch (e) {
      await s.end();
      throw e;
    }
    return s;
  }
  cmd(method, path, body) {
    return wd(method, `/session/${this.id}${path}`, body);
  }
  async end() {
    await this.cmd('DELETE', '').catch(() => {});
  }
  async find(css) {
    const v = await this.cmd('POST', '/element', { using: 'css selector', value: css });
    return elementId(v);
  }
  async findAll(css) {
    const v = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return v.map(elementId);
  }
  /** Waits until `css` matches (and, with `text`, until its text contains it; with
   * `content`, its DOM text, for text that is clipped on screen). */
  async waitFor(css, { text, timeout = 15000, content = false } = {}) {
    const until = Date.now() + timeout;
    let last = '';
    while (Date.now() < until) {
      try {
        const el = await this.find(css);
        if (text === undefined) return el;
        last = content
          ? await this.exec('return arguments[0].textContent;', [{ [ELEMENT]: el }])
          : await this.text(el);
        if (last.includes(text)) return el;
      } catch {
        /* not there yet */
      }
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${css}${text ? ` with text ${JSON.stringify(text)} (last: ${JSON.stringify(last)})` : ''}`);
  }
  /** Waits until the DOM text of `css` satisfies `test` (a function of the text); the
   * error names `what` and the last text seen. */
  async waitForContent(css, what, test, { timeout = 15000 } = {}) {
    const until = Date.now() + timeout;
    let last = '';
    while (Date.now() < until) {
      try {
        const el = await this.find(css);
        last = await this.exec('return arguments[0].textContent;', [{ [ELEMENT]: el }]);
        if (test(last)) return last;
      } catch {
        /* not there yet */
      }
      await sleep(100);
    }
    throw new Error(`timed out waiting for ${css} to show ${what} (last: ${JSON.stringify(last)})`);
  }
  async click(css) {
    await this.clickElement(await this.waitFor(css));
  }
  async clickElement(id) {
    await this.cmd('POST', `/element/${id}/click`, {});
  }
  async type(css, value) {
    const el = await this.waitFor(css);
    await this.cmd('POST', `/element/${el}/clear`, {});
    if (value !== '') await this.cmd('POST', `/element/${el}/value`, { text: value });
    // WebKitWebDriver's clear fires no input event; tell the page the field is now empty.
    else await this.exec(`arguments[0].dispatchEvent(new Event('input', { bubbles: true }));`, [{ [ELEMENT]: el }]);
  }
  /** Types `value` into the resident list's Search and waits until the rows on screen answer
   * it (the count's `data-answered`: the list keeps the earlier rows until the answer comes). */
  async search(value, { timeout = 15000 } = {}) {
    await this.type('[data-testid="search"]', value);
    const want = value.trim();
    const until = Date.now() + timeout;
    while (Date.now() < until) {
      const got = await this.exec(`return document.querySelector('[data-testid="count"]')?.getAttribute('data-answered') ?? null;`);
      if (got === want) return;
      await sleep(50);
    }
    throw new Error(`the resident list did not answer the search ${JSON.stringify(value)} within ${timeout} ms`);
  }
  async text(el) {
    return this.cmd('GET', `/element/${el}/text`);
  }
  async textOf(css) {
    return this.text(await this.waitFor(css));
  }
  async attr(css, name) {
    const el = await this.waitFor(css);
    return this.cmd('GET', `/element/${el}/attribute/${name}`);
  }
  async enabled(css) {
    const el = await this.waitFor(css);
    return this.cmd('GET', `/element/${el}/enabled`);
  }
  /** Runs script in the page (arguments as `arguments[i]`). */
  async exec(script, args = []) {
    return this.cmd('POST', '/execute/sync', { script, args });
  }
  /** Chooses an option of a <select> by its visible text (or value), firing `change`. */
  async choose(css, label) {
    await this.waitFor(css);
    const ok = await this.exec(
      `const s = document.querySelector(arguments[0]);
       const o = [...s.options].find(o => o.text === arguments[1] || o.value === arguments[1]);
       if (!o) return false;
       s.value = o.value;
       s.dispatchEvent(new Event('change', { bubbles: true }));
       s.dispatchEvent(new Event('input', { bubbles: true }));
       return true;`,
      [css, label],
    );
    if (!ok) throw new Error(`no option ${JSON.stringify(label)} in ${css}`);
  }
  /** Chooses the option at `index` (0 = the placeholder) and returns its text. */
  async chooseIndex(css, index) {
    await this.waitFor(css);
    return this.exec(
      `const s = document.querySelector(arguments[0]);
       const o = s.options[arguments[1]];
       if (!o) return null;
       s.value = o.value;
       s.dispatchEvent(new Event('change', { bubbles: true }));
       return o.text;`,
      [css, index],
    );
  }
  /** A picture of the window for people to look at. WebKitWebDriver now and then answers a
   * screenshot with "unknown error" (seen once in a run that passed the time before): tried
   * three times, then said on stderr; a picture is evidence, never the assertion. */
  async screenshot(name) {
    let last;
    for (let attempt = 0; attempt < 3; attempt++) {
      await sleep(250 * (attempt + 1));
      try {
        const png = await this.cmd('GET', '/screenshot');
        writeFileSync(join(SHOTS, `${name}.png`), Buffer.from(png, 'base64'));
        return;
      } catch (e) {
        last = e;
      }
    }
    console.error(`screenshot ${name} not taken: ${last?.message ?? last}`);
  }
}

export const accounts = {
  team_admin: { email: 'teamadmin@demo.residentdesk.test', password: 'Demo-TeamAdmin-2026', title: 'Team administrator' },
  team_user: { email: 'teamuser@demo.residentdesk.test', password: 'Demo-TeamUser-2026', title: 'Team user' },
  staff_local_admin: { email: 'localadmin@demo.residentdesk.test', password: 'Demo-LocalAdmin-2026', title: 'Staff local-admin' },
  staff_user: { email: 'staff@demo.residentdesk.test', password: 'Demo-Staff-2026', title: 'Staff user' },
  owner: { email: 'owner@demo.residentdesk.test', password: 'Demo-Owner-2026', title: 'Team administrator' },
};

export async function signIn(s, who) {
  await s.type('#email', who.email);
  await s.type('#password', who.password);
  await s.click('#signin');
  await s.waitFor('[data-testid="who"]', { text: who.title });
}

/** Back to the system's language and theme: Settings' overrides live in the webview's
 * localStorage, which every app start of this user shares (whatever the database), so a test
 * that reads the look or the words must not inherit another test's choice. Reloads the page. */
export async function systemLookAndLanguage(s) {
  await s.exec(
    `localStorage.removeItem('residentdesk.locale'); localStorage.removeItem('residentdesk.theme');
     window.__reloading = true; location.reload(); return true;`,
  );
  for (let i = 0; i < 150; i++) {
    const fresh = await s.exec('return !window.__reloading && document.querySelector("#app > *") !== null;').catch(() => false);
    if (fresh) return;
    await sleep(100);
  }
  throw new Error('the page did not come back after clearing the language and theme');
}

/** Calls an app command from the page, as a screen would (the core decides); its answer, or
 * an error naming the command and what the core said. */
export async function invoke(s, command, args = {}) {
  const out = await s.exec(
    `return window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then((v) => JSON.stringify({ ok: v }), (e) => JSON.stringify({ err: e }));`,
    [command, args],
  );
  const parsed = JSON.parse(out);
  if (parsed.err) throw new Error(`${command}: ${JSON.stringify(parsed.err)}`);
  return parsed.ok;
}

/** Starts the simulator binary `sim` with `args`; resolves to the process and its base URL
 * (the first line it prints). */
export function startSim(sim, args) {
  const proc = spawn(sim, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', (line) => {
      const m = line.match(/^listening on (\S+)/);
      if (m) resolve({ proc, url: m[1] });
      else reject(new Error(`unexpected first line from the simulator: ${line}`));
    });
    proc.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
}
