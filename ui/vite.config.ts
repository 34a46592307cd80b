import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Tauri shell serves `dist/` from the binary; no dev server is needed to run the app.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: { target: 'safari15', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  // `css.include`: the palette test reads app.css as written (`?raw`), not the empty stub.
  // Desk times are shown in the desk's zone: the tests pin it (and move it where they say).
  test: { include: ['src/**/*.test.ts'], environment: 'node', css: { include: [/app\.css/] }, env: { TZ: 'UTC' } },
});
