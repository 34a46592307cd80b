// axe-core in the real webview: its source (ui/node_modules, a devDependency of the UI) is
// put into the page over WebDriver and run on the whole document; a `serious` or `critical`
// violation fails the caller, with each rule id and the elements it found.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

function axeSource() {
  const require = createRequire(import.meta.url);
  for (const tryPath of [() => require.resolve('axe-core/axe.min.js'), () => join('ui', 'node_modules', 'axe-core', 'axe.min.js')]) {
    try {
      return readFileSync(tryPath(), 'utf8');
    } catch {
      /* the next place */
    }
  }
  throw new Error('axe-core is not installed: run `npm ci` in ui/ (cargo xtask e2e does)');
}
let source;

/** The violations of impact `serious` or `critical` on the page now, as lines
 * `rule-id (impact): summary — target, target`. */
export async function axeViolations(s) {
  source ??= axeSource();
  const loaded = await s.exec('return typeof window.axe === "object";');
  if (!loaded) await s.exec(`${source}\n;return true;`);
  // axe.run is asynchronous: started here, its answer read back when it is there.
  await s.exec(
    `window.__axeResult = null;
     window.axe.run(document, { resultTypes: ['violations'] }).then(
       (r) => { window.__axeResult = JSON.stringify({ violations: r.violations }); },
       (e) => { window.__axeResult = JSON.stringify({ error: String(e) }); });
     return true;`,
  );
  for (let i = 0; i < 600; i++) {
    const out = await s.exec('return window.__axeResult;');
    if (out) {
      const r = JSON.parse(out);
      if (r.error) throw new Error(`axe failed: ${r.error}`);
      return r.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ` [${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)}]` : ''}`).join(', ')}`);
    }
    await sleep(100);
  }
  throw new Error('axe did not finish within a minute');
}
