/**
 * The layering, as rules. `npm run lint` runs this after ESLint.
 *
 * crypto/ is the base and imports nothing of ours; integrations/ and sandbox/ sit on it and may
 * use crypto/ only; server/ composes them. contract/ holds the HTTP API's shapes (zod schemas)
 * and imports nothing but zod: server/ validates and serialises with it, and the web app, a
 * separate bundle that talks to the server over HTTP only, imports its types and nothing else
 * from outside web/. Inside server/, routes go through services, never to repositories.
 *
 * A known exception goes in ROUTE_REPOSITORY_ALLOWLIST with the reason it stays for now.
 */

/**
 * Route files allowed to import a repository, each with a comment saying why; delete an entry
 * when its route goes through a service. Empty: the last one (the export route writing audit
 * rows) now goes through ExportService and ExportImportJobs.
 */
const ROUTE_REPOSITORY_ALLOWLIST = [];

const ours = '^(contract|crypto|integrations|sandbox|server|web|migrations|bench|e2e|scripts|test-support)/';
/** Tests (never shipped): *.test.ts anywhere, and the repository-level tests in server/test/. */
const tests = '(\\.test\\.tsx?$|^server/test/)';
const allowlisted = ROUTE_REPOSITORY_ALLOWLIST.length ? `^(${ROUTE_REPOSITORY_ALLOWLIST.map((f) => f.replace(/[.]/g, '\\.')).join('|')})$` : '^$';

/** Files under `dir` may import only `dir` itself and the folders in `allowed` of ours. */
const layer = (name, comment, dir, allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^${dir}/` },
  to: { path: ours, pathNot: `^(${[dir, ...allowed].join('|')})/` },
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // Each layer's tests may also use the doubles of its own layer and those below it
    // (shipped-code-imports-no-test-support keeps them out of the shipped files).
    layer('crypto-imports-nothing-of-ours', 'crypto/ is the base layer: only node built-ins, npm packages and crypto/ itself.', 'crypto', [
      'test-support/crypto',
    ]),
    layer('integrations-use-crypto-at-most', 'integrations/ may use crypto/ and itself, never server/, sandbox/ or web/.', 'integrations', [
      'crypto',
      'test-support/(crypto|integrations)',
    ]),
    layer('sandbox-uses-crypto-at-most', 'sandbox/ may use crypto/ and itself, never server/, integrations/ or web/.', 'sandbox', [
      'crypto',
      'test-support/(crypto|sandbox)',
    ]),
    {
      name: 'contract-depends-on-zod-only',
      comment: 'contract/ is the API shapes both sides share: zod and itself, nothing of ours, no node built-ins.',
      severity: 'error',
      from: { path: '^contract/' },
      to: { pathNot: '^(contract/|node_modules/zod/)' },
    },
    layer('web-talks-http-only', 'The web app is its own bundle: nothing from the server side (it reaches the server over HTTP) but the API contract.', 'web', [
      'contract',
    ]),
    {
      name: 'web-imports-contract-types-only',
      comment: 'The web app takes the contract as types (`import type`), so zod is not bundled for it.',
      severity: 'error',
      from: { path: '^web/' },
      to: { path: '^contract/', dependencyTypesNot: ['type-only'] },
    },
    // The doubles keep their layer's layering, so a crypto or sandbox test never pulls in the server.
    layer('crypto-doubles-use-crypto-at-most', 'test-support/crypto/ stands in for crypto/ tests: crypto/ and itself only.', 'test-support/crypto', ['crypto']),
    layer(
      'integrations-doubles-stay-in-their-layer',
      'test-support/integrations/ may use integrations/, crypto/ and their doubles.',
      'test-support/integrations',
      ['integrations', 'crypto', 'test-support/crypto'],
    ),
    layer('sandbox-doubles-stay-in-their-layer', 'test-support/sandbox/ may use sandbox/, crypto/ and their doubles.', 'test-support/sandbox', [
      'sandbox',
      'crypto',
      'test-support/crypto',
    ]),
    {
      name: 'shipped-code-imports-no-test-support',
      comment: 'test-support/ holds test doubles and helpers, which are not built or shipped: only tests, benches, e2e and scripts use them.',
      severity: 'error',
      from: { path: '^(crypto|integrations|sandbox|server|migrations|web/src)/', pathNot: tests },
      to: { path: '^test-support/' },
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
    { name: 'no-circular', comment: 'Import cycles make start-up order and mocking fragile.', severity: 'error', from: {}, to: { circular: true } },
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
