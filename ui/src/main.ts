import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { initLocale } from './lib/i18n/locale.svelte';
import { applyTheme, storedTheme } from './lib/theme';

// The person's language and theme before the first paint: the OS's, or this desk's override.
initLocale();
applyTheme(storedTheme(), false);

const target = document.getElementById('app');
if (!target) throw new Error('missing #app');
export default mount(App, { target });
