import { resolve } from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'electron-vite';

const common = resolve(__dirname, 'src-main/common');

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      // the bundle also runs under Node 22 (the built-bundle test, a CLI from out/): syntax it lacks is lowered
      target: 'node22',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src-main/electron/main.ts'),
          worker: resolve(__dirname, 'src-main/core/tasks/worker.ts'),
        },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // a sandboxed preload can require nothing but electron: the contract's method list (the keys of its schema map,
      // common/schemas.ts) is bundled in with valibot, not left as a require of a dependency
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve(__dirname, 'src-main/electron/preload.ts') },
        // sandboxed preloads must be CommonJS
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src-renderer'),
    resolve: { alias: { '@common': common } },
    plugins: [vue()],
    // relative asset URLs: serve mode serves the app under a per-instance path (/s/<id>/)
    base: './',
    build: {
      outDir: resolve(__dirname, 'out/renderer'),
      chunkSizeWarningLimit: 2000,
      rollupOptions: { input: resolve(__dirname, 'src-renderer/index.html') },
    },
  },
});
