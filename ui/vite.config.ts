import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The Tauri shell serves `dist/` from the binary; no dev server is needed to run the app.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: { target: 'safari15', outDir: 'dist', emptyOutDir: true, sourcemap: false },
  // `css.include`: the palette test reads app.css as written (`?raw`), not the empty stub.
  test: { include: ['src/**/*.test.ts'], environment: 'node', css: { include: [/app\.css/] } },
});
