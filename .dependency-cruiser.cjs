/**
 * The layering, as rules. `npm run lint` runs this after ESLint.
 *
 * crypto/ is the base and imports nothing of ours; integrations/ and sandbox/ sit on it and may
 * use crypto/ only; server/ composes them. The web app is a separate bundle that talks to the
 * server over HTTP only. Inside server/, routes go through services, never to repositories.
 *
 * Known exceptions are listed in ROUTE_REPOSITORY_ALLOWLIST with the reason each stays for now.
 */

/**
 * Route files that still import a repository. Each is owned by parallel work this round (the
 * thin-routes refactor of issue 14 moves them behind services); delete the entry when fixed.
 */
const ROUTE_REPOSITORY_ALLOWLIST = [];

const ours = '^(crypto|integrations|sandbox|server|web|migrations|bench|e2e|scripts)/';
const allowlisted = ROUTE_REPOSITORY_ALLOWLIST.length
  ? `^(${ROUTE_REPOSITORY_ALLOWLIST.map((f) => f.replace(/[.]/g, '\\.')).join('|')})$`
  : '^$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'crypto-imports-nothing-of-ours',
      comment: 'crypto/ is the base layer: only node built-ins, npm packages and crypto/ itself.',
      severity: 'error',
      from: { path: '^crypto/' },
      to: { path: ours, pathNot: '^crypto/' },
    },
    {
      name: 'integrations-use-crypto-at-most',
      comment: 'integrations/ may use crypto/ and itself, never server/, sandbox/ or web/.',
      severity: 'error',
      from: { path: '^integrations/' },
      to: { path: ours, pathNot: '^(crypto|integrations)/' },
    },
    {
      name: 'sandbox-uses-crypto-at-most',
      comment: 'sandbox/ may use crypto/ and itself, never server/, integrations/ or web/.',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: ours, pathNot: '^(crypto|sandbox)/' },
    },
    {
      name: 'web-talks-http-only',
      comment: 'The web app is its own bundle: nothing from the server side (it reaches the server over HTTP).',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: ours, pathNot: '^web/' },
    },
    {
      name: 'routes-go-through-services',
      comment: 'A route is schema -> one service call -> reply; SQL lives behind services.',
      severity: 'error',
      from: { path: '^server/routes/', pathNot: allowlisted },
      to: { path: '^server/repositories/' },
    },
    {
      name: 'shipped-code-imports-no-tests',
      comment: 'Test files are not shipped: nothing imports a *.test.ts.',
      severity: 'error',
      from: {},
      to: { path: '\\.test\\.tsx?$' },
    },
    {
      name: 'no-circular',
      comment: 'Import cycles make start-up order and mocking fragile.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|data|web/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
