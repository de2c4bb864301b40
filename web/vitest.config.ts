import { defineProject } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Component tests (jsdom). Paths are relative to web/, this project's root.
export default defineProject({
  plugins: [react()],
  test: { name: 'web', environment: 'jsdom', include: ['src/**/*.test.tsx', 'src/**/*.test.ts'], setupFiles: ['src/test-setup.ts'], css: false },
});
