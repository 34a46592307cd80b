// The resident table stays virtualised on one site of 10,000+ residents: scrolled from top to
// bottom, the DOM holds a small window of rows while the last resident becomes visible. Times
// the first render and each scroll step. The database is built first by the CLI
// (`demo seed --big-site`). Screenshots 95-97.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { mkdirSync, rmSync } from 'node:fs';
import { Session, startDriver, stopDriver, signIn, accounts } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'scroll');
const DB = join(DIR, 'desk.db');
const BIG = 10000;

before(async () => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(DIR, { recursive: true });
  execFileSync('cargo', ['build', '-q', '--bin', 'residentdesk'], { stdio: 'inherit' });
  execFileSync('target/debug/residentdesk', ['--db', DB, 'demo', 'seed', '--residents', '600', '--big-site', String(BIG)], {
    stdio: 'ignore',
  });
  await startDriver();
});
after(stopDriver);

const domRows = (s) => s.exec(`return document.querySelectorAll('[data-testid="resident-row"]').length;`);

test('a site of 10,000+ residents scrolls top to bottom with a small DOM', async () => {
  const s = await Session.start(['--db', DB]);
  try {
    // From "Sign in" to the big site's rows on screen (it is the team's first site).
    await s.type('#email', accounts.owner.email);
    await s.type('#password', accounts.owner.password);
    const t0 = Date.now();
    await s.click('#signin');
    await s.waitFor('[data-testid="count"]', { text: 'residents at Maple Court', timeout: 60000 });
    await s.waitFor('[data-testid="resident-row"]');
    const renderMs = Date.now() - t0;
    const countText = await s.textOf('[data-testid="count"]');
    const total = Number(countText.match(/([\d,.]+) residents/)[1].replace(/[,.]/g, ''));
    assert.ok(total >= BIG, `the site holds ${total} residents`);
    // Switching away and back: the list of 10,000+ rendered again.
    const options = await s.exec(`return [...document.querySelectorAll('[data-testid="site-select"] option')].map(o => o.text);`);
    const big = options.find((t) => t.startsWith('Maple Court'));
    const other = options.find((t) => !t.startsWith('Maple Court'));
    await s.choose('[data-testid="site-select"]', other);
    await s.waitFor('[data-testid="count"]', { text: `residents at ${other.replace(/ \(\d+\)$/, '')}`, timeout: 30000 });
    const t1 = Date.now();
    await s.choose('[data-testid="site-select"]', big);
    await s.waitFor('[data-testid="count"]', { text: 'residents at Maple Court', timeout: 60000 });
    await s.waitFor('[data-testid="resident-row"]');
    const switchMs = Date.now() - t1;
    const atTop = await domRows(s);
    console.log(`render ${total} residents: sign-in to rows ${renderMs} ms, site switch ${switchMs} ms; rows in the DOM: ${atTop}`);
    assert.ok(atTop < 200, `${atTop} rows in the DOM at the top`);
    await s.screenshot('95-scroll-top');

    // Scroll by the page, timing each step until the next frame is painted.
    const steps = [];
    let maxRows = atTop;
    for (let i = 0; i < 400; i++) {
      const r = await s.cmd('POST', '/execute/async', {
        script: `const done = arguments[arguments.length - 1];
          const body = document.querySelector('[data-testid="resident-rows"]');
          const t = performance.now();
          body.scrollTop += body.clientHeight * 10;
          requestAnimationFrame(() => requestAnimationFrame(() => done({
            ms: performance.now() - t,
            end: body.scrollTop + body.clientHeight >= body.scrollHeight - 2,
            rows: document.querySelectorAll('[data-testid="resident-row"]').length })));`,
        args: [],
      });
      steps.push(r.ms);
      maxRows = Math.max(maxRows, r.rows);
      if (i === 10) await s.screenshot('96-scroll-middle');
      if (r.end) break;
    }
    const sorted = [...steps].sort((a, b) => a - b);
    const p = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
    console.log(`scroll: ${steps.length} steps of 10 screens; per step median ${p(0.5)} ms, p95 ${p(0.95)} ms, max ${p(1)} ms; max rows in the DOM ${maxRows}`);
    assert.ok(maxRows < 200, `${maxRows} rows in the DOM while scrolling`);
    // The keyboard alone goes back to the top and down to the last resident: Home and End on
    // the focused list.
    const focused = await s.exec(
      `const b = document.querySelector('[data-testid="resident-rows"]'); b.focus(); return document.activeElement === b;`,
    );
    assert.ok(focused, 'the list itself takes the focus');
    await s.cmd('POST', '/actions', {
      actions: [{ type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: '\uE011' }, { type: 'keyUp', value: '\uE011' }] }],
    });
    await s.waitFor('[data-testid="resident-row"][aria-rowindex="2"]');
    // WebKit animates keyboard scrolling: the first row can be drawn before the list is at 0.
    let top = -1;
    for (let i = 0; i < 50 && top !== 0; i++) {
      top = await s.exec(`return document.querySelector('[data-testid="resident-rows"]').scrollTop;`);
      if (top !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(top, 0, 'Home went to the top');
    await s.cmd('POST', '/actions', {
      actions: [{ type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: '\uE010' }, { type: 'keyUp', value: '\uE010' }] }],
    });
    // WebKit animates keyboard scrolling: wait for the last row to be rendered.
    await s.waitFor(`[data-testid="resident-row"][aria-rowindex="${total + 1}"]`);
    // The last resident is rendered and, once the animation ends, inside the visible part.
    let last = null;
    for (let i = 0; i < 50 && !last?.visible; i++) {
      if (last) await new Promise((r) => setTimeout(r, 100));
      last = await s.exec(`const body = document.querySelector('[data-testid="resident-rows"]');
      const rows = [...document.querySelectorAll('[data-testid="resident-row"]')];
      const lastRow = rows.reduce((a, b) => Number(a.getAttribute('aria-rowindex')) > Number(b.getAttribute('aria-rowindex')) ? a : b);
      const box = body.getBoundingClientRect(), r = lastRow.getBoundingClientRect();
      return { index: Number(lastRow.getAttribute('aria-rowindex')), visible: r.top >= box.top - 1 && r.bottom <= box.bottom + 1, text: lastRow.innerText };`);
    }
    assert.equal(last.index, total + 1, `the last rendered row is the last resident (${JSON.stringify(last)})`);
    assert.ok(last.visible, 'the last resident is on screen');
    assert.ok((await domRows(s)) < 200);
    await s.screenshot('97-scroll-bottom');
  } finally {
    await s.end();
  }
});
