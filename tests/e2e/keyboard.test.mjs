// Keyboard first (issue 16), in the real webview, on a demo database of its own: the shortcut
// help, focus kept inside every dialog and given back, the shortcuts only where a person may
// act, arrows/Home/End/Enter in the resident list; then a resident added, edited and
// terminated with keys alone (Ctrl+N, Tab, typing, Enter/Space, the confirmation by
// keyboard); and printing: Ctrl+P prints the list with every row and a header naming the
// site, the filter and the date, under a print stylesheet that hides the app's chrome.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join, resolve } from 'node:path';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { Session, startDriver, stopDriver, signIn, accounts, systemLookAndLanguage, SHOTS, invoke, answerDialog } from './webdriver.mjs';
import { press, typeKeys, focused, KEY } from './keys.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'keyboard');
const DB = join(DIR, 'desk.db');

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  await startDriver();
});
after(stopDriver);

/** Waits until the focused element's description (keys.mjs `focused`) passes `test`. */
async function focusWhere(s, what, test, timeout = 10000) {
  const until = Date.now() + timeout;
  let last = '';
  while (Date.now() < until) {
    last = await focused(s);
    if (test(last)) return last;
    await sleep(50);
  }
  throw new Error(`focus never reached ${what} (last: ${last})`);
}
/** Presses Tab until the focus passes `test` (at most `max` times). */
async function tabTo(s, what, test, max = 25) {
  for (let i = 0; i < max; i++) {
    const f = await focused(s);
    if (test(f)) return f;
    await press(s, KEY.Tab);
  }
  throw new Error(`Tab never reached ${what} (last: ${await focused(s)})`);
}
const openDialog = (s) => s.exec('const d = [...document.querySelectorAll("dialog[open]")]; return d.map((x) => x.dataset.testid ?? x.getAttribute("aria-labelledby")).join(",");');
async function waitDialogs(s, expected) {
  for (let i = 0; i < 300; i++) {
    if ((await openDialog(s)) === expected) return;
    await sleep(50);
  }
  const said = await s.exec(`return [...document.querySelectorAll('.field-error, [data-testid="notice"]')].map((e) => e.textContent.trim()).join(' | ');`);
  await s.screenshot('k99-keyboard-failure');
  assert.equal(await openDialog(s), expected, `the open dialogs (the page says: ${said}; focus ${await focused(s)})`);
}

test('keys alone: help, dialogs, list, add → edit → terminate, print', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    // Set-up (not the keyboard's part): the demo, signed in as a Team administrator.
    await systemLookAndLanguage(s);
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { timeout: 60000 });
    await s.click('#demo-ready ~ p button, .panel button.primary');
    await s.waitFor('#signin');
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    const count = await s.exec('return document.querySelector(\'[role="table"]\').getAttribute("aria-rowcount") - 1;');
    assert.ok(count > 30, `a list longer than the window (${count})`);

    // Ctrl+F: to the search, from anywhere; `?` typed there is text, not the help.
    await press(s, 'f', [KEY.Control]);
    await focusWhere(s, 'the search', (f) => f.startsWith('input|search'));
    await press(s, '?');
    assert.equal(await openDialog(s), '', 'no help while typing');
    assert.equal(await s.exec('return document.activeElement.value;'), '?');
    await press(s, KEY.Backspace);

    // Tab to the list, then the arrows: row by row, the ends, Enter opens the row.
    await tabTo(s, 'the list', (f) => f.startsWith('div|resident-rows'));
    await press(s, KEY.ArrowDown);
    await focusWhere(s, 'the first row', (f) => f === 'button|open-resident||2|');
    await press(s, KEY.ArrowDown);
    await focusWhere(s, 'the second row', (f) => f === 'button|open-resident||3|');
    await press(s, KEY.End);
    await focusWhere(s, 'the last row', (f) => f === `button|open-resident||${count + 1}|`);
    await s.screenshot('k01-list-end');
    await press(s, KEY.Home);
    await focusWhere(s, 'the first row again', (f) => f === 'button|open-resident||2|');
    await press(s, KEY.PageDown);
    await focusWhere(s, 'a page further', (f) => /^button\|open-resident\|\|(\d+)\|$/.test(f) && Number(f.split('|')[3]) > 5);
    await press(s, KEY.Home);
    await press(s, KEY.ArrowDown);
    await press(s, KEY.ArrowDown);
    await focusWhere(s, 'the third row', (f) => f === 'button|open-resident||4|');
    const third = await s.exec('return document.activeElement.textContent.trim();');
    await press(s, KEY.Enter);
    await waitDialogs(s, 'detail-h');
    assert.match(await s.textOf('#detail-h'), new RegExp(third.split(', ').reverse().join(' ')), 'Enter opened the focused row');
    await focusWhere(s, 'inside the detail', (f) => f.endsWith('in:detail-h'));
    await press(s, KEY.Escape);
    await waitDialogs(s, '');
    await focusWhere(s, 'back on the row that opened it', (f) => f === 'button|open-resident||4|');

    // `?`: the help, focus inside, Tab stays inside (the modal <dialog>), Escape gives the
    // focus back to the row.
    await press(s, '?');
    await waitDialogs(s, 'shortcut-help');
    const helpText = await s.textOf('[data-testid="shortcut-help"]');
    for (const words of ['Keyboard shortcuts', 'Ctrl+F', 'Ctrl+N', 'Ctrl+Shift+S', 'F5', 'Ctrl+P', 'Add a resident', 'Sync now', 'Open the resident', 'Esc']) {
      assert.ok(helpText.replace(/\s*\+\s*/g, '+').includes(words), `the help lists ${words}: ${helpText}`);
    }
    await s.screenshot('k02-help');
    for (let i = 0; i < 6; i++) {
      await press(s, KEY.Tab);
      const f = await focused(s);
      assert.ok(f.endsWith('in:shortcut-help'), `Tab ${i + 1} stays in the help (${f})`);
    }
    await press(s, KEY.Escape);
    await waitDialogs(s, '');
    await focusWhere(s, 'back on the row after the help', (f) => f === 'button|open-resident||4|');

    // Sync now: the sync bar's button, pressed by the key only when it is enabled.
    await s.exec(`window.__syncPresses = 0; document.querySelector('[data-testid="sync-now"]').addEventListener('click', () => window.__syncPresses++); return true;`);
    const syncEnabled = await s.enabled('[data-testid="sync-now"]');
    await press(s, 'S', [KEY.Control, KEY.Shift]);
    await sleep(300);
    assert.equal(await s.exec('return window.__syncPresses;'), syncEnabled ? 1 : 0, `Ctrl+Shift+S presses Sync now exactly when it is enabled (${syncEnabled})`);
    // A control the core's gate closed stays unpressed: Add disabled, Ctrl+N opens nothing.
    await s.exec('document.querySelector(\'[data-testid="add-resident"]\').disabled = true; return true;');
    await press(s, 'n', [KEY.Control]);
    await sleep(300);
    assert.equal(await openDialog(s), '', 'Ctrl+N does nothing while Add is disabled');
    await s.exec('document.querySelector(\'[data-testid="add-resident"]\').disabled = false; return true;');

    // Add, with keys alone: Ctrl+N, typing, Tab, the selects by typing an option, Enter.
    const mappings = await s.exec(
      `const f = document.querySelector('[data-testid="site-select"]'); return f.value;`,
    );
    const site = mappings;
    // A unit no resident of the site has (the core refuses an occupied one).
    const units = await invoke(s, 'site_mappings', { site });
    const living = await invoke(s, 'resident_list', { site, filter: { statuses: [], building: null, search: null, limit: null } });
    const taken = new Set(living.map((r) => `${r.building}/${r.floor}/${r.unit}`));
    const u = units.find((m) => !taken.has(`${m.building}/${m.floor}/${m.unit}`));
    assert.ok(u, 'the demo site has a free unit');
    const email = `kbd.only.${Date.now()}@example.test`;
    await press(s, 'n', [KEY.Control]);
    await waitDialogs(s, 'form-title');
    await focusWhere(s, 'the first name', (f) => f.includes('|first_name|') && f.endsWith('in:form-title'));
    await typeKeys(s, 'Kira');
    await press(s, KEY.Tab);
    await typeKeys(s, 'Keyes');
    await press(s, KEY.Tab);
    await typeKeys(s, email);
    await press(s, KEY.Tab);
    await typeKeys(s, '555-0100');
    await press(s, KEY.Tab);
    await focusWhere(s, 'the building', (f) => f.startsWith('select|') && f.includes('|building|'));
    await typeKeys(s, u.building);
    await press(s, KEY.Tab);
    await focusWhere(s, 'the floor', (f) => f.includes('|floor|'));
    await typeKeys(s, u.floor);
    await press(s, KEY.Tab);
    await focusWhere(s, 'the unit', (f) => f.includes('|unit|'));
    await typeKeys(s, u.unit);
    const chosen = await s.exec(`const f = document.querySelector('[data-testid="resident-form"] form'); return [f.building.value, f.floor.value, f.unit.value].join('/');`);
    assert.equal(chosen, `${u.building}/${u.floor}/${u.unit}`, 'the unit chosen by typing');
    await s.screenshot('k03-form-by-keys');
    await press(s, KEY.Tab);
    await press(s, KEY.Enter);
    await waitDialogs(s, 'detail-h');
    await s.waitFor('[data-testid="notice"][data-kind="ok"]', { text: 'Kira Keyes' });
    let found = await invoke(s, 'resident_search', { query: email, limit: 5 });
    assert.equal(found.length, 1, 'added');

    // Edit: Tab to Edit, Enter, Tab to the phone, a new number, Enter.
    await tabTo(s, 'Edit', (f) => f.startsWith('button|edit-resident'));
    await press(s, KEY.Enter);
    await waitDialogs(s, 'detail-h,form-title');
    await focusWhere(s, 'the first name', (f) => f.includes('|first_name|'));
    await tabTo(s, 'the phone', (f) => f.includes('|phone|'));
    await press(s, 'a', [KEY.Control]);
    await typeKeys(s, '555-0199');
    await press(s, KEY.Enter);
    await waitDialogs(s, 'detail-h');
    found = await invoke(s, 'resident_search', { query: email, limit: 5 });
    assert.equal(found[0].phone, '555-0199', 'edited');

    // Terminate: Tab to it, Space; the confirmation takes the focus (Cancel first), Tab
    // stays inside it, Tab to Terminate, Enter.
    await tabTo(s, 'Terminate', (f) => f.startsWith('button|terminate'));
    await press(s, KEY.Space);
    await waitDialogs(s, 'detail-h,confirm-dialog');
    await focusWhere(s, 'Cancel in the confirmation', (f) => f.startsWith('button||') && f.endsWith('in:confirm-dialog'));
    for (let i = 0; i < 4; i++) {
      await press(s, KEY.Tab);
      const f = await focused(s);
      assert.ok(f.endsWith('in:confirm-dialog'), `Tab ${i + 1} stays in the confirmation (${f})`);
    }
    await s.screenshot('k04-confirm-by-keys');
    await tabTo(s, 'the confirm button', (f) => f.startsWith('button|confirm|'));
    await press(s, KEY.Enter);
    await waitDialogs(s, 'detail-h');
    for (let i = 0; i < 100; i++) {
      found = await invoke(s, 'resident_search', { query: email, limit: 5 });
      if (found[0]?.deactivation_utc) break;
      await sleep(100);
    }
    assert.ok(found[0]?.deactivation_utc, `terminated: ${JSON.stringify(found[0])}`);
    await press(s, KEY.Escape);
    await waitDialogs(s, '');

    // Print: Ctrl+P calls window.print() with every row of the list drawn for paper (the
    // webview's print dialog is replaced here by a recorder: it would wait for a person).
    await s.exec(
      `window.__printed = null;
       window.print = () => { const t = document.querySelector('[data-testid="print-rows"]'); window.__printed = { rows: t ? t.tBodies[0].rows.length : 0, head: document.querySelector('[data-testid="print-head"]').innerText }; };
       return true;`,
    );
    const rowCount = () => s.exec('return document.querySelector(\'[role="table"]\').getAttribute("aria-rowcount") - 1;');
    const all = await rowCount();
    await s.choose('[data-testid="status-filter"]', 'active');
    let shown = all;
    for (let i = 0; i < 100 && shown === all; i++) {
      await sleep(100);
      shown = await rowCount();
    }
    assert.ok(shown > 0 && shown < all, `the filter narrowed the list (${all} → ${shown})`);
    await s.waitForContent('[data-testid="count"]', 'the filtered count', (t) => /\d+ residents? at /.test(t));
    const siteName = await s.exec(`const s = document.querySelector('[data-testid="site-select"]'); return s.options[s.selectedIndex].text.replace(/ \\(\\d+\\)$/, '');`);
    await s.exec('document.activeElement.blur(); return true;');
    await press(s, 'p', [KEY.Control]);
    for (let i = 0; i < 50 && !(await s.exec('return window.__printed;')); i++) await sleep(100);
    const printed = await s.exec('return window.__printed;');
    assert.ok(printed, 'Ctrl+P printed');
    assert.equal(printed.rows, shown, 'every row of the filtered list is on paper');
    assert.equal(await s.exec('return document.querySelector(\'[data-testid="print-rows"]\');'), null, 'the paper copy is gone after printing');
    const head = await s.exec('return document.querySelector(\'[data-testid="print-head"]\').textContent;');
    assert.match(head, new RegExp(`Residents at ${siteName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `the header names the site: ${head}`);
    assert.match(head, /Status: Active · Building: Any · Search: none/, `the header names the filter: ${head}`);
    const today = await s.exec("return new Intl.DateTimeFormat('en', { dateStyle: 'medium' }).format(new Date());");
    assert.ok(head.includes(`Printed ${today}`), `the header has the date in the person's locale (${today}): ${head}`);

    // The print stylesheet, read back from the page's CSSOM (WebKit offers no print
    // emulation to WebDriver): under @media print the chrome is hidden and the header shown.
    const print = await s.exec(`
      const out = {};
      const walk = (rules, inPrint) => { for (const r of rules) {
        if (r.media && r.cssRules) walk(r.cssRules, inPrint || /\\bprint\\b/.test(r.media.mediaText));
        else if (r.selectorText) {
          const display = r.style.getPropertyValue('display');
          if (!inPrint && r.selectorText === '.print-only') out.screen = display;
          // Selectors as written in app.css, whatever quotes and spaces the build and the
          // CSSOM serialisation use.
          if (inPrint) for (const sel of r.selectorText.split(',').map((x) => x.replace(/["']/g, '').replace(/\\s+/g, ' ').trim())) out[sel] = display + (r.style.getPropertyPriority('display') ? '!' : '');
        }
      } };
      for (const sheet of document.styleSheets) walk(sheet.cssRules, false);
      return out;`);
    for (const sel of ['header', 'nav', 'button', 'select', 'input', '[data-testid=notices]', '.residents > :not(.print-only)']) {
      assert.equal(print[sel], 'none!', `@media print hides ${sel}: ${JSON.stringify(print)}`);
    }
    assert.equal(print['.print-only'], 'block!', 'the print header shows on paper');
    assert.equal(print.screen, 'none', 'and not on screen');
    assert.equal(await s.exec('return getComputedStyle(document.querySelector(\'[data-testid="print-head"]\')).display;'), 'none');

    // A real print to paper, here a PDF. WebKit ignores window.print() on a page driven by
    // WebDriver, so the e2e build's print seam (src-tauri/src/print_seam.rs) runs WebKit's
    // own print operation, under the page's print stylesheet, to a file; the page gets
    // `beforeprint`/`afterprint` around it, as with a print from the web view's own menu. Its
    // text must hold the header and the filtered rows, and none of the app's chrome.
    const firstRows = await s.exec(`return [...document.querySelectorAll('[role="row"][data-testid="resident-row"]')].slice(0, 3).map((r) => r.querySelector('.c-email').textContent.trim());`);
    assert.ok(firstRows.length > 0, 'rows are on screen to look for on paper');
    const pdf = resolve(join(SHOTS, 'k05-print.pdf'));
    for (const f of [pdf, `${pdf}.done`, `${pdf}.failed`]) rmSync(f, { force: true });
    await s.exec("window.dispatchEvent(new Event('beforeprint')); return true;");
    answerDialog('print', pdf);
    for (let i = 0; i < 300 && !existsSync(`${pdf}.done`) && !existsSync(`${pdf}.failed`); i++) await sleep(100);
    await s.exec("window.dispatchEvent(new Event('afterprint')); return true;");
    assert.ok(!existsSync(`${pdf}.failed`), `printing failed: ${existsSync(`${pdf}.failed`) ? readFileSync(`${pdf}.failed`, 'utf8') : ''}`);
    assert.ok(existsSync(`${pdf}.done`), 'the print finished');
    assert.ok(statSync(pdf).size > 0, `the print wrote ${pdf}`);
    const paper = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    writeFileSync(join(SHOTS, 'k05-print.txt'), paper);
    assert.match(paper, new RegExp(`Residents at ${siteName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`), `the PDF names the site:\n${paper.slice(0, 400)}`);
    assert.match(paper, /Status: Active · Building: Any · Search: none/, 'the PDF names the filter');
    for (const name of firstRows) assert.ok(paper.includes(name), `the PDF lists ${name}`);
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }))[1]);
    assert.ok(pages >= Math.ceil(shown / 60), `${shown} rows take ${pages} pages`);
    for (const chrome of ['Sync now', 'Sign out', 'Import / export']) assert.ok(!paper.includes(chrome), `no app chrome on paper (${chrome})`);
    console.log(`printed ${shown} rows to ${pdf}: ${pages} pages`);
  } finally {
    await s.end();
  }
});
