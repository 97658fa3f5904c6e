/**
 * The layers (README "Layout"), checked by dependency-cruiser in `npm test` (`npm run lint:layers`):
 *   common/   imports only common/ and valibot (no Node, no Electron, no algo/ or core/)
 *   algo/     imports only algo/ and common/ (no node:, no core/)
 *   core/     never imports electron, the server, the CLI or the UI
 *   electron  only electron/ imports it
 *   renderer  imports only its own files, src-main/common (through @common/) and its UI packages
 *   cycles    no import cycle between production files, type-only imports included (no-circular)
 *   tools     production code never imports the build tools (tools/: the model build, run in its own process)
 *   tests     production code never imports test or bench helpers; a non-test file in a production folder must be
 *             reachable from an entry point (else it is a test-only helper: it belongs in src-main/testing/)
 * src-main/reliability/layers.test.ts runs this on the tree and on a bad fixture (the check can fail).
 */
const TEST = '(\\.test\\.ts$|\\.d\\.ts$|^src-main/testing/|^src-main/reliability/|^bench/|^e2e/|^tools/)';
const PROD = '^src-main/(common|algo|core|cli|server|electron)/';
const ENTRIES = '^src-main/(cli/main|electron/main|electron/preload|core/tasks/worker)\\.ts$';

/**
 * The rooms of core/, lowest first: a room (a folder, or a loose file) imports only rooms before it (and the loose
 * helpers not listed: io-errors, config, paths, atomic-write, ...), so no two rooms import each other. workers/ is
 * not placed yet: the worker registry and the feature task files still import each other (issue-28a breaks that
 * circle; then workers/ goes between the feature rooms and services/).
 */
const CORE_ROOMS = [
  ['store', '^src-main/core/store/'],
  ['models', '^src-main/core/models/'],
  ['library', '^src-main/core/library\\.ts$'],
  ['scan', '^src-main/core/scan/'],
  ['curation', '^src-main/core/curation/'],
  ['learn', '^src-main/core/learn/'],
  ['embed', '^src-main/core/embed/'],
  ['cluster', '^src-main/core/cluster/'],
  ['map', '^src-main/core/map/'],
  ['interop', '^src-main/core/interop/'],
  ['export', '^src-main/core/export/'],
  ['xmp', '^src-main/core/xmp/'],
  ['watch', '^src-main/core/watch\\.ts$'],
  ['services', '^src-main/core/services/'],
  ['service', '^src-main/core/service\\.ts$'],
  ['host', '^src-main/core/library-host\\.ts$'],
];

/** One rule per room: it never imports a room after it in CORE_ROOMS (type-only imports count). */
function coreRoomOrder() {
  return CORE_ROOMS.slice(0, -1).map(([name, path], i) => ({
    name: `core-room-order-${name}`,
    comment: `core/ rooms in order (${CORE_ROOMS.map(([n]) => n).join(' → ')}): ${name} never imports a room after it`,
    severity: 'error',
    from: { path, pathNot: TEST },
    to: { path: CORE_ROOMS.slice(i + 1).map(([, p]) => p) },
  }));
}

module.exports = {
  forbidden: [
    {
      name: 'common-pure',
      comment: 'common/ imports only common/ and valibot',
      severity: 'error',
      from: { path: '^src-main/common/', pathNot: TEST },
      to: { pathNot: ['^src-main/common/', '^node_modules/valibot/'] },
    },
    {
      name: 'algo-pure',
      comment: 'algo/ is pure: no Node, no core/ (only algo/ and common/)',
      severity: 'error',
      from: { path: '^src-main/algo/', pathNot: TEST },
      to: { pathNot: ['^src-main/(algo|common)/'] },
    },
    {
      name: 'core-no-shells',
      comment: 'core/ never imports electron/, the server, the CLI or the UI',
      severity: 'error',
      from: { path: '^src-main/core/', pathNot: TEST },
      to: { path: ['^src-main/(electron|server|cli)/', '^src-renderer/'] },
    },
    {
      name: 'only-electron-imports-electron',
      comment: 'only src-main/electron/ imports the electron package',
      severity: 'error',
      from: { pathNot: '^src-main/electron/' },
      to: { path: ['^node_modules/electron/', '^electron(/|$)'] },
    },
    {
      name: 'renderer-through-common',
      comment: 'the renderer reaches the main side only through src-main/common (@common/), never Node',
      severity: 'error',
      from: { path: '^src-renderer/' },
      to: { pathNot: ['^src-renderer/', '^src-main/common/', '^node_modules/'] },
    },
    {
      name: 'renderer-no-node',
      comment: 'the renderer has no Node',
      severity: 'error',
      from: { path: '^src-renderer/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-test-helpers-in-production',
      comment: 'production code never imports test or bench helpers (src-main/testing, reliability, bench, vitest)',
      severity: 'error',
      from: { path: PROD, pathNot: TEST },
      to: { path: ['^src-main/testing/', '^src-main/reliability/', '^bench/', '^e2e/', '^node_modules/vitest/', '\\.test\\.ts$'] },
    },
    {
      name: 'production-file-used-by-production',
      comment: 'a non-test file in a production folder that no entry point reaches is a test/bench helper: move it to src-main/testing/',
      severity: 'error',
      from: { path: ENTRIES },
      to: { path: PROD, pathNot: [TEST, ENTRIES, '^src-main/cli/bin\\.mjs$'], reachable: false },
    },
    {
      name: 'no-build-tools-in-production',
      comment: 'the model build (tools/: npm pack, TF.js -> ONNX) is not part of the runtime: `prepare-models` runs it in its own process',
      severity: 'error',
      from: { path: PROD, pathNot: TEST },
      to: { path: '^tools/' },
    },
    {
      name: 'no-circular',
      comment: 'no import cycle between production files (type-only imports count: tsPreCompilationDeps below)',
      severity: 'error',
      from: { path: PROD, pathNot: TEST },
      to: { circular: true },
    },
    // the order of core/'s rooms (issue 28): see CORE_ROOMS below
    ...coreRoomOrder(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    preserveSymlinks: true,
    exclude: { path: '(^out/|^dist/|\\.d\\.ts$)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.vue', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
