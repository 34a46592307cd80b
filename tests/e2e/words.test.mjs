// The person's language and theme in the real webview. An app started with a Spanish OS
// language (LANG/LANGUAGE, which WebKitGTK hands to navigator.languages) speaks Spanish on the
// first-run, sign-in and residents screens; one started with a dark GTK theme
// (GTK_THEME=Adwaita:dark → prefers-color-scheme: dark) paints dark. Settings overrides both
// at once. Screenshots of the main screens in both languages and both themes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Session, startDriver, stopDriver, signIn, accounts, systemLookAndLanguage } from './webdriver.mjs';

const DIR = join(dirname(process.env.RESIDENTDESK_DB ?? 'target/e2e/residentdesk.db'), 'words');
const DB = join(DIR, 'desk.db');
// WebKitGTK takes the language from the C library's locale, which exists only once generated
// (a Spanish desktop has it; a build machine usually has only C.UTF-8): the test generates
// es_ES.UTF-8 into a folder of its own (glibc's LOCPATH) instead of changing the system.
const LOCALES = join(DIR, 'locales');
const SPANISH = { LANG: 'es_ES.UTF-8', LANGUAGE: 'es', LOCPATH: LOCALES };
const DARK = { GTK_THEME: 'Adwaita:dark' };

before(() => {
  rmSync(DIR, { recursive: true, force: true });
  mkdirSync(LOCALES, { recursive: true });
  try {
    execFileSync('localedef', ['-i', 'es_ES', '-f', 'UTF-8', join(LOCALES, 'es_ES.UTF-8')], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    // localedef exits 1 for warnings while still writing the locale: only a missing one fails.
    if (!existsSync(join(LOCALES, 'es_ES.UTF-8', 'LC_MESSAGES'))) throw new Error(`cannot generate the es_ES.UTF-8 locale (the locales package's data): ${e.stderr ?? e}`);
  }
});
after(stopDriver);

/** The app on the test's database, with the driver (and so the app) in `env`. */
async function withApp(env, body) {
  stopDriver();
  await startDriver(env);
  const s = await Session.start(['--db', DB]);
  try {
    // The system's language and theme, whatever another test chose in Settings (the web
    // view's storage is the computer's, shared by every start).
    await systemLookAndLanguage(s);
    await body(s);
  } finally {
    await s.end();
  }
}

/** The relative luminance (0 black … 1 white) of a CSS `rgb(…)` colour. */
function luminance(css) {
  const [r, g, b] = css.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
const rootBackground = (s) => s.exec('return getComputedStyle(document.documentElement).backgroundColor;');

async function openResident(s) {
  await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
  await s.click('[data-testid="open-resident"]');
  await s.waitFor('[data-testid="resident-detail"]');
}
async function closeResident(s) {
  await s.click('[data-testid="resident-detail"] button[aria-label]');
  for (let i = 0; i < 50 && (await s.exec("return document.querySelector('[data-testid=\"resident-detail\"]') !== null;")); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a Spanish OS language: first run, sign-in and residents in Spanish; Settings switches to English at once', () =>
  withApp(SPANISH, async (s) => {
    const langs = await s.exec('return [navigator.language, ...(navigator.languages ?? [])];');
    assert.ok(langs.some((l) => /^es/i.test(l)), `the webview reports Spanish: ${langs}`);
    assert.equal(await s.exec('return document.documentElement.lang;'), 'es');

    await s.waitFor('h1', { text: 'Bienvenido a ResidentDesk' });
    await s.waitFor('[data-testid="seed-demo"]', { text: 'Cargar la cartera de demostración' });
    await s.screenshot('w01-es-first-run');
    await s.click('[data-testid="seed-demo"]');
    await s.waitFor('#demo-ready', { text: 'Cartera de demostración lista', timeout: 60000 });
    await s.click('#demo-ready ~ p button, .panel button.primary');

    await s.waitFor('#signin-h', { text: 'Iniciar sesión en ResidentDesk' });
    assert.equal(await s.textOf('#signin'), 'Iniciar sesión');
    assert.match(await s.textOf('[data-testid="have-invitation"]'), /Tengo una invitación/);
    await s.screenshot('w02-es-sign-in');

    // The header names the role in the person's language too.
    await signIn(s, { ...accounts.team_admin, title: 'Administrador del equipo' });
    await s.waitFor('#res-h', { text: 'Residentes' });
    await s.waitFor('[data-testid="add-resident"]', { text: 'Agregar residente' });
    await s.waitForContent('[data-testid="count"]', 'the count in Spanish', (t) => /\d residentes? en /.test(t), { timeout: 30000 });
    assert.equal(await s.attr('[data-testid="search"]', 'placeholder'), 'Nombre, correo o unidad');
    assert.match(await s.textOf('[data-testid="nav-settings"]'), /Configuración/);
    const chips = await s.exec("return [...document.querySelectorAll('[data-testid=\"resident-row\"] .chip')].map((c) => c.dataset.status + '=' + c.textContent);");
    assert.ok(chips.some((c) => c === 'active=Activo') && chips.every((c) => ['active=Activo', 'scheduled=Programado', 'suspended=Suspendido', 'ended=Finalizado'].includes(c)), `status chips in Spanish: ${chips}`);
    await s.screenshot('w03-es-residents');
    await openResident(s);
    await s.waitFor('[data-testid="resident-detail"] h3', { text: 'Acciones' });
    await s.screenshot('w04-es-resident-detail');
    await closeResident(s);

    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('#settings-h', { text: 'Configuración' });
    await s.screenshot('w05-es-settings');

    // The override: English at once, no reload; remembered on this desk; back to the system's.
    await s.choose('[data-testid="settings-language"]', 'en');
    await s.waitFor('#settings-h', { text: 'Settings' });
    assert.match(await s.textOf('[data-testid="nav-residents"]'), /Residents/);
    assert.equal(await s.exec('return localStorage.getItem("residentdesk.locale");'), 'en');
    await s.choose('[data-testid="settings-language"]', 'system');
    await s.waitFor('#settings-h', { text: 'Configuración' });
    assert.equal(await s.exec('return localStorage.getItem("residentdesk.locale");'), null);
  }));

test('a dark GTK theme: the app paints dark; Settings overrides it with Light at once', () =>
  withApp(DARK, async (s) => {
    assert.equal(await s.exec("return matchMedia('(prefers-color-scheme: dark)').matches;"), true, 'WebKitGTK reports the dark theme');
    await s.waitFor('#signin');
    const bg = await rootBackground(s);
    assert.ok(luminance(bg) < 0.05, `the page background is dark: ${bg}`);
    const ink = await s.exec("return getComputedStyle(document.querySelector('#signin-h')).color;");
    assert.ok(luminance(ink) > 0.6, `the text is light: ${ink}`);
    await s.screenshot('w06-dark-sign-in');

    await signIn(s, accounts.team_admin);
    await s.waitFor('#res-h', { text: 'Residents' });
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.screenshot('w07-dark-residents');
    await openResident(s);
    await s.screenshot('w08-dark-resident-detail');
    await closeResident(s);
    await s.click('[data-testid="nav-settings"]');
    await s.waitFor('[data-testid="settings-theme"]');
    await s.screenshot('w09-dark-settings');

    // Light chosen in Settings: light at once, whatever the OS says; then the system's again.
    await s.choose('[data-testid="settings-theme"]', 'light');
    assert.equal(await s.exec('return document.documentElement.dataset.theme;'), 'light');
    const light = await rootBackground(s);
    assert.ok(luminance(light) > 0.8, `the page background is light: ${light}`);
    await s.screenshot('w10-dark-os-light-chosen-settings');
    await s.choose('[data-testid="settings-theme"]', 'system');
    assert.ok(luminance(await rootBackground(s)) < 0.05, 'dark again with the system theme');

    // Both at once: Spanish chosen in Settings, in the dark theme.
    await s.choose('[data-testid="settings-language"]', 'es');
    await s.click('[data-testid="nav-residents"]');
    await s.waitFor('#res-h', { text: 'Residentes' });
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.screenshot('w11-dark-es-residents');
    await s.click('[data-testid="nav-outbox"]');
    await s.waitFor('#outbox-h', { text: 'Bandeja de salida' });
    await s.screenshot('w12-dark-es-outbox');
    await s.click('[data-testid="nav-import"]');
    await s.waitFor('#io-h', { text: 'Importar y exportar' });
    await s.screenshot('w13-dark-es-import');
    await s.click('[data-testid="nav-settings"]');
    await s.choose('[data-testid="settings-language"]', 'system');
    await s.waitFor('#settings-h', { text: 'Settings' });
  }));

test('a light GTK theme and English: the default, light', () =>
  withApp({}, async (s) => {
    assert.equal(await s.exec("return matchMedia('(prefers-color-scheme: dark)').matches;"), false);
    await s.waitFor('#signin-h', { text: 'Sign in to ResidentDesk' });
    assert.ok(luminance(await rootBackground(s)) > 0.8, 'the page background is light');
    await signIn(s, accounts.team_admin);
    await s.waitFor('[data-testid="resident-row"]', { timeout: 30000 });
    await s.screenshot('w14-light-en-residents');
  }));
