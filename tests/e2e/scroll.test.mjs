// The resident table stays virtualised on one site of 10,000+ residents: scrolled from top to
// bottom, the DOM holds a small window of rows while the last resident becomes visible. Times
// the first render and each scroll step. The database is built first by the CLI
// (`demo seed --big-site`). The list has no native scroller (ui/src/lib/drawnScroll.ts): it is
// scrolled here as a person scrolls it, by the wheel (pixels, lines, pages), by dragging the
// drawn scrollbar's thumb, by pressing its track, and by the keys. Screenshots 95-98.
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
/** The drawn scrollbar's `aria-valuenow` (0 at the top, 100 only at the very end). */
const scrolled = (s) => s.exec(`return Number(document.querySelector('[data-testid="resident-scrollbar"]').getAttribute('aria-valuenow'));`);
/** The row whose top is at or just above the list's top edge: its `aria-rowindex` and how far
 * above the edge its top is (the list shows every row from it down, without gaps). */
const topRow = (s) =>
  s.exec(`const box = document.querySelector('[data-testid="resident-rows"]').getBoundingClientRect();
    const rows = [...document.querySelectorAll('[data-testid="resident-row"]')].map((r) => [Number(r.getAttribute('aria-rowindex')), r.getBoundingClientRect().top - box.top]);
    const above = rows.filter(([, t]) => t <= 0.5).sort((a, b) => b[1] - a[1])[0];
    return above ? { index: above[0], above: -above[1] } : null;`);
/** Real pointer input through WebDriver (the platform's mouse, so pointer events, capture and
 * all): `steps` of [type, x, y] in the viewport's coordinates. */
async function mouse(s, steps) {
  const actions = steps.flatMap(([type, x, y]) =>
    type === 'down'
      ? [{ type: 'pointerMove', x: Math.round(x), y: Math.round(y), origin: 'viewport', duration: 0 }, { type: 'pointerDown', button: 0 }]
      : type === 'up'
        ? [{ type: 'pointerUp', button: 0 }]
        : [{ type: 'pointerMove', x: Math.round(x), y: Math.round(y), origin: 'viewport', duration: 50 }],
  );
  await s.cmd('POST', '/actions', { actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }] });
  await s.cmd('DELETE', '/actions');
}
/** Dispatches a wheel event on the list as the webview delivers one (deltaMode 0 pixels, 1
 * lines, 2 pages); returns whether the list took it (preventDefault). */
const wheel = (s, deltaY, deltaMode = 0, deltaX = 0) =>
  s.exec(
    `const body = document.querySelector('[data-testid="resident-rows"]');
     const ev = new WheelEvent('wheel', { deltaY: arguments[0], deltaMode: arguments[1], deltaX: arguments[2], bubbles: true, cancelable: true });
     return !body.dispatchEvent(ev);`,
    [deltaY, deltaMode, deltaX],
  );
/** Waits for the page's next painted frame (so the list has redrawn its window). */
const frame = (s) =>
  s.cmd('POST', '/execute/async', { script: `const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));`, args: [] });

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

    // The wheel: pixels as a touchpad sends them, then lines; rows follow without gaps.
    assert.equal(await wheel(s, -30), false, 'at the top, an upward wheel is left to the page');
    assert.equal(await wheel(s, 0, 0, 120), false, 'a horizontal wheel is not the list\'s');
    for (const dy of [12.5, 27.5, 40, 40]) assert.equal(await wheel(s, dy), true, 'the list takes a wheel it can follow');
    await frame(s);
    assert.deepEqual(await topRow(s), { index: 5, above: 0 }, 'three rows of 40 px down, the fourth resident is at the top');
    await wheel(s, 1, 1);
    await frame(s);
    assert.deepEqual(await topRow(s), { index: 6, above: 0 }, 'a line is a row');
    await wheel(s, -5);
    await frame(s);
    assert.deepEqual(await topRow(s), { index: 5, above: 35 }, 'a small delta moves by pixels');
    await wheel(s, -1000);
    await frame(s);
    assert.equal(await scrolled(s), 0, 'back at the top');
    // And a real wheel, from the platform (WebDriver's wheel input source) over the rows.
    const centre = await s.exec(`const r = document.querySelector('[data-testid="resident-rows"]').getBoundingClientRect();
      return [Math.round(r.left + r.width / 2), Math.round(r.top + r.height / 2)];`);
    const realWheel = (deltaY) =>
      s.cmd('POST', '/actions', {
        actions: [{ type: 'wheel', id: 'wheel', actions: [{ type: 'scroll', x: centre[0], y: centre[1], deltaX: 0, deltaY, origin: 'viewport' }] }],
      });
    await realWheel(80);
    for (let i = 0; i < 50 && (await scrolled(s)) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    await frame(s);
    assert.deepEqual(await topRow(s), { index: 4, above: 0 }, 'a real wheel of 80 px: two rows down');
    await realWheel(-80);
    for (let i = 0; i < 50 && (await scrolled(s)) !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await scrolled(s), 0, 'and back up');
    // A row drawn below the view (the window drawn is larger than the view) that gets the
    // focus some other way than the list's keys (Tab, a screen reader) is scrolled into view.
    const hiddenRow = await s.exec(`const box = document.querySelector('[data-testid="resident-rows"]').getBoundingClientRect();
      const below = [...document.querySelectorAll('[data-testid="resident-row"]')].filter((r) => r.getBoundingClientRect().top >= box.bottom);
      const row = below[below.length - 1];
      row.querySelector('[data-row-focus]').focus();
      return Number(row.getAttribute('aria-rowindex'));`);
    await frame(s);
    const seen = await s.exec(`const box = document.querySelector('[data-testid="resident-rows"]').getBoundingClientRect();
      const r = document.activeElement.closest('[data-testid="resident-row"]');
      const b = r.getBoundingClientRect();
      return { index: Number(r.getAttribute('aria-rowindex')), inside: b.top >= box.top - 1 && b.bottom <= box.bottom + 1 };`);
    assert.deepEqual(seen, { index: hiddenRow, inside: true }, `row ${hiddenRow}, focused below the view, was scrolled into it`);
    await wheel(s, -100000);
    await frame(s);

    // Scroll by the page (wheel events of ten pages), timing each step until the next frame
    // is painted.
    const steps = [];
    let maxRows = atTop;
    for (let i = 0; i < 400; i++) {
      const r = await s.cmd('POST', '/execute/async', {
        script: `const done = arguments[arguments.length - 1];
          const body = document.querySelector('[data-testid="resident-rows"]');
          const bar = document.querySelector('[data-testid="resident-scrollbar"]');
          const t = performance.now();
          body.dispatchEvent(new WheelEvent('wheel', { deltaY: 10, deltaMode: 2, bubbles: true, cancelable: true }));
          requestAnimationFrame(() => requestAnimationFrame(() => done({
            ms: performance.now() - t,
            end: bar.getAttribute('aria-valuenow') === '100',
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
    assert.equal(await wheel(s, 30), false, 'at the end, a downward wheel is left to the page');

    // The drawn scrollbar: the thumb dragged to the top with the pointer, and on past the bar
    // (the pointer is captured); a press on the track below the thumb pages down; the thumb
    // dragged to the very bottom. The focus stays on the list all along.
    await s.exec(`document.querySelector('[data-testid="resident-rows"]').focus(); return true;`);
    const bar = () =>
      s.exec(`const r = (e) => e.getBoundingClientRect();
        const bar = r(document.querySelector('[data-testid="resident-scrollbar"]'));
        const t = r(document.querySelector('[data-testid="resident-scrollbar-thumb"]'));
        return { x: bar.left + bar.width / 2, top: bar.top, bottom: bar.bottom, thumbTop: t.top, thumbBottom: t.bottom, window: innerHeight };`);
    let b = await bar();
    assert.ok(b.thumbBottom - b.thumbTop >= 20, `a thumb to grab (${JSON.stringify(b)})`);
    assert.ok(b.thumbBottom >= b.bottom - 1, 'at the end the thumb is at the bottom of the track');
    await mouse(s, [['down', b.x, b.thumbBottom - 5], ['move', b.x, (b.top + b.bottom) / 2], ['move', b.x, b.top - 80], ['up']]);
    await frame(s);
    assert.equal(await scrolled(s), 0, 'the thumb dragged up to the top');
    assert.deepEqual(await topRow(s), { index: 2, above: 0 }, 'the first resident at the top');
    b = await bar();
    await mouse(s, [['down', b.x, b.bottom - 10], ['up']]);
    await frame(s);
    const page = (await s.exec(`return document.querySelector('[data-testid="resident-rows"]').clientHeight;`)) - 40;
    assert.deepEqual(await topRow(s), { index: 2 + Math.floor(page / 40), above: page % 40 }, `a press on the track: a page down (the viewport less one row, ${page} px)`);
    await mouse(s, [['down', b.x, b.thumbTop + 3], ['move', b.x, Math.min(b.window - 2, b.bottom + 60)], ['up']]);
    await frame(s);
    assert.equal(await scrolled(s), 100, 'the thumb dragged to the end');
    assert.equal(
      await s.exec(`return document.activeElement === document.querySelector('[data-testid="resident-rows"]');`),
      true,
      'the scrollbar took no focus',
    );
    await s.screenshot('98-scrollbar-dragged');
    // What assistive technology is told about the bar.
    const aria = await s.exec(`const b = document.querySelector('[data-testid="resident-scrollbar"]');
      return ['role', 'aria-controls', 'aria-orientation', 'aria-valuemin', 'aria-valuemax', 'aria-valuenow', 'aria-valuetext'].map((a) => b.getAttribute(a));`);
    assert.deepEqual(aria.slice(0, 6), ['scrollbar', 'resident-rows', 'vertical', '0', '100', '100']);
    const n = (x) => x.toLocaleString('en');
    const shown = await s.exec(`return Math.ceil(document.querySelector('[data-testid="resident-rows"]').clientHeight / 40);`);
    assert.equal(aria[6], `Rows ${n(total - shown + 1)}–${n(total)} of ${n(total)}`, 'the rows in view are named');
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
    let top = -1;
    for (let i = 0; i < 50 && top !== 0; i++) {
      top = await scrolled(s);
      if (top !== 0) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(top, 0, 'Home went to the top');
    await s.cmd('POST', '/actions', {
      actions: [{ type: 'key', id: 'kb', actions: [{ type: 'keyDown', value: '\uE010' }, { type: 'keyUp', value: '\uE010' }] }],
    });
    await s.waitFor(`[data-testid="resident-row"][aria-rowindex="${total + 1}"]`);
    // The last resident is rendered and inside the visible part.
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
