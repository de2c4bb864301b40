/**
 * Whether this tree runs as the production build (dist/, `npm run build`: plain JavaScript, with
 * dist/ one level below the project root) or from the TypeScript sources under tsx or vitest.
 * The few places that load files by path (workers, the web app) differ between the two.
 */
export const COMPILED = import.meta.url.endsWith('.js');

/** The project root: where package.json, node_modules and web/dist are in both layouts. */
export const PROJECT_ROOT = new URL(COMPILED ? '../../' : '../', import.meta.url);
