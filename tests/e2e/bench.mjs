// Start-up benchmark of the desktop app (run by hand or by `cargo xtask bench` users):
// launches the real binary on RESIDENTDESK_DB (e.g. 100,000 demo residents), and prints the
// time to the sign-in screen, the time from "Sign in" to a usable resident list, and the
// resident set size of the app and of its WebKit processes.
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
const t0 = performance.now();
const s = await Session.start();
await s.waitFor('#signin', { timeout: 30000 });
const tSignIn = performance.now();
await s.type('#email', accounts.team_admin.email);
await s.type('#password', accounts.team_admin.password);
const tClick = performance.now();
await s.click('#signin');
await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
const tList = performance.now();
const count = await s.textOf('[data-testid="count"]');
// The binary named by RESIDENTDESK_APP (`cargo xtask bench`: the packaged release build).
const app = rssKb(APP);
const web = rssKb('WebKitWebProcess') + rssKb('WebKitNetworkProcess');
console.log(`launch to sign-in screen: ${(tSignIn - t0).toFixed(0)} ms (includes WebDriver session set-up)`);
console.log(
  `sign-in to usable resident list: ${(tList - tClick).toFixed(0)} ms (${count}; target < 1 s: ratio ${((tList - tClick) / 1000).toFixed(2)})`,
);
console.log(`memory (RSS): app ${(app / 1024).toFixed(0)} MiB, WebKit processes ${(web / 1024).toFixed(0)} MiB`);
await s.end();
stopDriver();
