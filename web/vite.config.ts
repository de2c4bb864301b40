import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));
const target = process.env.API_URL ?? 'http://127.0.0.1:8080';

// The server accepts mutating requests only with an Origin matching itself, so the dev proxy
// presents the server's own origin instead of Vite's.
const proxy = {
  target,
  changeOrigin: true,
  configure: (p: { on: (ev: 'proxyReq', cb: (req: { setHeader: (k: string, v: string) => void }) => void) => void }) => {
    p.on('proxyReq', (req) => req.setHeader('origin', target));
  },
};

export default defineConfig({
  root,
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': proxy, '/health': proxy } },
});
