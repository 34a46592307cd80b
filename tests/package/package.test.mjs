// The package test's desktop half (run by `cargo xtask test` after it has unpacked the .deb
// into a scratch root): the app binary from the package, RESIDENTDESK_APP, starts under Xvfb
// on the demo database the packaged CLI seeded (RESIDENTDESK_DB) and shows the sign-in form.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { APP, Session, startDriver, stopDriver } from '../e2e/webdriver.mjs';

after(() => stopDriver());

test('the packaged app starts to the sign-in screen', async () => {
  // The binary must be the unpacked one, not the build's: the package is what is tested.
  assert.match(APP ?? '', /\/usr\/bin\/[^/]+$/, `RESIDENTDESK_APP is not a packaged binary: ${APP}`);
  await startDriver();
  const s = await Session.start();
  try {
    await s.waitFor('#signin', { timeout: 30000 });
    assert.equal(await s.enabled('#email'), true);
    assert.equal(await s.enabled('#password'), true);
    assert.equal(await s.attr('#password', 'type'), 'password');
    await s.screenshot('package-sign-in');
  } finally {
    await s.end();
  }
});
