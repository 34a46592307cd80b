// Start-up benchmark of the desktop app (run by hand or by `cargo xtask bench` users):
// launches the real binary on RESIDENTDESK_DB (e.g. 100,000 demo residents), and prints the
// time to the sign-in screen, the time from "Sign in" to a usable resident list, and the
// resident set size of the app and of its WebKit processes, then search-as-you-type: each
// keystroke in Search timed in the page from the input event to the first frame painted after
// the core's answer is shown (the real IPC call and render).
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { APP, Session, startDriver, stopDriver, accounts } from './webdriver.mjs';

function rssKb(pattern) {
  let total = 0;
  let out = '';
  try {
    out = execSync(`pgrep -f ${JSON.stringify(pattern)}`).toString();
  } catch {
    return 0;
  }
  for (const pid of out.split(/\s+/).filter(Boolean)) {
    try {
      const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
      if (m) total += Number(m[1]);
    } catch {
      /* gone */
    }
  }
  return total;
}

await startDriver();
let s;
try {
  const t0 = performance.now();
  s = await Session.start();
  await s.waitFor('#signin', { timeout: 30000 });
  const tSignIn = performance.now();
  await s.type('#email', accounts.team_admin.email);
  await s.type('#password', accounts.team_admin.password);
  // Timed in the page: from the click on "Sign in" to the frame that shows the first resident
  // rows, painted (WebDriver's polling would add up to 100 ms and its round trips).
  await s.cmd('POST', '/timeouts', { script: 180000 });
  const signInMs = await s.cmd('POST', '/execute/async', {
    script: `const done = arguments[0];
      const t0 = performance.now();
      const seen = new MutationObserver(() => {
        if (!document.querySelector('[data-testid="resident-row"]')) return;
        seen.disconnect();
        requestAnimationFrame(() => {
          const c = new MessageChannel();
          c.port1.onmessage = () => done(performance.now() - t0);
          c.port2.postMessage(0);
        });
      });
      seen.observe(document.body, { childList: true, subtree: true });
      document.querySelector('#signin').click();`,
    args: [],
  });
  const count = await s.textOf('[data-testid="count"]');
  // The binary named by RESIDENTDESK_APP (`cargo xtask bench`: the packaged release build).
  const app = rssKb(APP);
  const web = rssKb('WebKitWebProcess') + rssKb('WebKitNetworkProcess');
  console.log(`launch to sign-in screen: ${(tSignIn - t0).toFixed(0)} ms (includes WebDriver session set-up)`);
  // 300 ms at 100,000 residents (issue #16), 500 ms at a million (issue #17): from xtask.
  const target = Number(process.env.BENCH_SIGN_IN_TARGET_MS ?? 300);
  console.log(
    `sign-in to usable resident list: ${signInMs.toFixed(0)} ms (${count}; target < ${target} ms: ratio ${(signInMs / target).toFixed(2)})`,
  );
  console.log(`memory (RSS): app ${(app / 1024).toFixed(0)} MiB, WebKit processes ${(web / 1024).toFixed(0)} MiB`);

  // Search as you type: the first five characters of the first twenty rows' names, one keystroke
  // at a time with a typist's pause (120 ms), the field cleared between names (also timed): 120
  // keystrokes, so that the p99 is a percentile rather than the single slowest keystroke.
  const names = await s.exec(
    `return [...document.querySelectorAll('[data-testid="resident-row"] .c-name')].slice(0, 20).map(e => e.textContent.trim())`,
  );
  const samples = await s.cmd('POST', '/execute/async', {
    script: `const [names, done] = arguments;
      const input = document.querySelector('[data-testid="search"]');
      const count = document.querySelector('[data-testid="count"]');
      const pause = (ms) => new Promise((r) => setTimeout(r, ms));
      // A keystroke's list is in the page when the count says which search its rows answer
      // (\`data-answered\`, set with the rows); it is on screen once the frame after that has
      // been painted (a task queued from the frame's rAF runs after its paint).
    const afterPaint = (resolve) =>
      requestAnimationFrame(() => {
        const c = new MessageChannel();
        c.port1.onmessage = () => resolve(performance.now());
        c.port2.postMessage(0);
      });
    function repainted(value) {
      const want = value.trim();
      return new Promise((resolve) => {
        const seen = new MutationObserver(() => {
          if (count.getAttribute('data-answered') !== want) return;
          seen.disconnect();
          const inPage = performance.now();
          afterPaint((painted) => resolve([inPage, painted]));
        });
        seen.observe(count, { attributes: true, attributeFilter: ['data-answered'] });
      });
    }
    async function key(value) {
        const shown = repainted(value);
        const t0 = performance.now();
        input.value = value;
        input.dispatchEvent(new InputEvent('input', { bubbles: true }));
        const t1 = await Promise.race([shown, pause(3000).then(() => [NaN, NaN])]);
        await pause(120);
        return [t1[0] - t0, t1[1] - t0, value];
      }
      (async () => {
        const out = [];
        for (const name of names) {
          for (let i = 1; i <= Math.min(5, name.length); i++) out.push(await key(name.slice(0, i)));
          out.push(await key(''));
        }
        done(out);
      })();`,
    args: [names],
  });
  const ordered = (xs) => xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const [inPage, sorted] = [ordered(samples.map((x) => x[0])), ordered(samples.map((x) => x[1]))];
  const pctOf = (xs, p) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
  const pct = (p) => pctOf(sorted, p);
  if (sorted.length < samples.length || sorted.length === 0) {
    console.log(`keystroke to repaint: ${samples.length - sorted.length} of ${samples.length} keystrokes got no answer within 3 s`);
    process.exitCode = 1;
  } else {
    console.log(
      `keystroke to repaint (search, ${sorted.length} keystrokes): median ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms (target < 50 ms: ratio ${(pct(99) / 50).toFixed(2)}); ` +
        `of which to the list in the page (IPC + core + render): median ${pctOf(inPage, 50).toFixed(1)} ms, p99 ${pctOf(inPage, 99).toFixed(1)} ms; ` +
        `slowest: ${[...samples].sort((a, b) => b[1] - a[1]).slice(0, 3).map(([, ms, typed]) => `${JSON.stringify(typed)} ${ms.toFixed(0)} ms`).join(', ')}`,
    );
  }
} finally {
  await s?.end();
  stopDriver();
}
