// The layers of src/ as lint rules (docs/architecture.md, "Layers and what each may import").
// Every folder of src/ (and src/app.ts) names what it may import besides itself;
// everything else of src/ is refused, so a layer cannot quietly reach into another.
// The allowed graph has no cycle, and import-x/no-cycle refuses cycles between files.
import { readdirSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import importX from 'eslint-plugin-import-x';

const root = path.dirname(import.meta.dirname);

/** Storage drivers: each subfolder of src/storage. */
const DRIVERS = readdirSync(path.join(root, 'src/storage'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

/** src/storage's files that pick and open drivers: only the composition (app, cli) uses them. */
const STORAGE_OPENERS = ['storage/open-stores.ts', 'storage/migrations.ts', 'storage/storage-migration.ts'];

/**
 * What each layer may import besides itself. `storage` means its contracts (the
 * interfaces and rows in src/storage/*.ts), never a driver or an opener, unless
 * `drivers` is set.
 */
export const LAYERS = {
  // Pure: the domain (no I/O), the ports of Go's formats, small utilities.
  core: { may: [], why: 'the domain core is pure and imports nothing else of src' },
  gocompat: { may: [], why: 'the Go ports are self-contained' },
  util: { may: [], why: 'utilities are self-contained' },
  audit: { may: ['core'], why: "the audit trail's writer, fed by HTTP and the local admin commands" },
  // Formats shared by the client and the registry.
  sign: { may: ['core', 'gocompat'], why: "cosign's formats are shared by the client and the registry" },
  chart: { may: ['core', 'gocompat'], why: 'Helm chart formats know nothing of registries' },
  flux: { may: ['core', 'gocompat'], why: 'Flux artifact formats know nothing of registries' },
  policy: { may: ['core', 'gocompat'], why: 'OPA bundle formats know nothing of registries' },
  // The registry side, bottom up.
  storage: { may: ['core', 'util'], why: 'storage implements its contracts over core alone' },
  registry: { may: ['core', 'util', 'sign', 'storage'], why: 'the registry works through the storage contracts' },
  metrics: { may: ['core', 'storage'], why: 'metrics observe the storage contracts and are fed by HTTP and GC' },
  http: { may: ['core', 'registry', 'storage', 'metrics', 'audit'], why: 'HTTP maps requests to registry calls' },
  ui: { may: ['http'], why: "the web UI's files, served through HTTP's UiMount seam, wired by app.ts" },
  auth: { may: ['core', 'http', 'storage'], why: "auth plugs into HTTP's AccessControl seam" },
  lifecycle: {
    may: ['core', 'gocompat', 'util', 'metrics', 'registry', 'storage'],
    why: 'lifecycle jobs run over the registry',
  },
  api: {
    may: [
      'core',
      'gocompat',
      'util',
      'sign',
      'chart',
      'flux',
      'policy',
      'auth',
      'http',
      'lifecycle',
      'registry',
      'storage',
    ],
    why: "Stowage's own JSON API (/api/v1, the web UI's), mounted into HTTP by app.ts; it reads what is inside artifacts with the formats' own readers",
  },
  proxy: {
    may: ['core', 'util', 'client', 'registry', 'storage', 'metrics'],
    why: "the pull-through cache fetches from upstream registries with the client library and stores through the registry's operations",
  },
  config: {
    may: ['core', 'gocompat', 'auth', 'lifecycle', 'registry', 'sign', 'storage', 'proxy'],
    why: 'config parses settings into the types of the layers it configures',
  },
  events: {
    may: ['core', 'config', 'metrics', 'storage'],
    why: 'the events outbox and webhook delivery, set up from its config section and wired by app.ts',
  },
  mirror: {
    may: ['core', 'client', 'config', 'metrics', 'registry', 'storage'],
    why: "scheduled mirrors read other registries with the client library and write through the registry's operations",
  },
  'app.ts': {
    may: [
      'api',
      'core',
      'config',
      'auth',
      'audit',
      'events',
      'http',
      'lifecycle',
      'metrics',
      'mirror',
      'proxy',
      'registry',
      'storage',
      'ui',
    ],
    drivers: true,
    why: 'app.ts wires the registry side together',
  },
  // The client side.
  client: {
    may: ['core', 'gocompat', 'util', 'sign', 'chart', 'flux', 'policy'],
    why: 'the client library shares no code with the server beyond core and the formats',
  },
  cli: {
    may: [
      'core',
      'gocompat',
      'client',
      'sign',
      'chart',
      'flux',
      'policy',
      'config',
      'app.ts',
      'auth',
      'audit',
      'lifecycle',
    ],
    also: ['registry/quotas.ts', 'storage/storage-config.ts', ...STORAGE_OPENERS],
    why: 'the CLI is thin over the client library and app.ts (and the local admin commands)',
  },
};

// The table itself must stay a hierarchy: two layers allowed to import each other
// (directly or round a loop) would be a cycle lint could not see file by file.
function assertAcyclic() {
  const state = new Map();
  const visit = (layer, trail) => {
    if (state.get(layer) === 'done') return;
    if (state.get(layer) === 'open')
      throw new Error(`eslint/layers.js: layers import round a loop: ${[...trail, layer].join(' → ')}`);
    state.set(layer, 'open');
    for (const next of LAYERS[layer]?.may ?? []) visit(next, [...trail, layer]);
    state.set(layer, 'done');
  };
  for (const layer of Object.keys(LAYERS)) visit(layer, []);
}
assertAcyclic();

// A new folder of src/ says where it stands before anything lints.
const unplaced = readdirSync(path.join(root, 'src'))
  .filter((name) => !(name in LAYERS))
  .map((name) => `src/${name}`);
if (unplaced.length > 0)
  throw new Error(`${unplaced.join(', ')}: not in eslint/layers.js; add the layer and what it may import`);

/** Node's modules the pure core may not import: all but crypto (hashing is computation, not I/O). */
const CORE_FORBIDDEN = builtinModules
  .filter((m) => !m.startsWith('_') && m !== 'crypto')
  .flatMap((m) => [m, `node:${m}`]);

function zones() {
  const out = [];
  for (const [layer, spec] of Object.entries(LAYERS)) {
    const target = `./src/${layer}`;
    const allowed = [layer, ...spec.may, ...(spec.also ?? [])];
    out.push({
      target,
      from: './src',
      except: allowed.map((a) => `./${a}`),
      message: `src/${layer} may import ${spec.may.length ? `only ${spec.may.join(', ')}` : 'nothing else of src'}: ${spec.why} (docs/architecture.md).`,
    });
    // "storage" allows the contracts, not the drivers or the openers.
    const openers = spec.also ? STORAGE_OPENERS.filter((o) => !spec.also.includes(o)) : STORAGE_OPENERS;
    if (allowed.includes('storage') && !spec.drivers && layer !== 'storage') {
      out.push({
        target,
        from: [...DRIVERS.map((d) => `./src/storage/${d}`), ...openers.map((o) => `./src/${o}`)],
        message: `src/${layer} uses storage through its contracts (src/storage/*-store.ts), never a driver or the code that opens them.`,
      });
    }
  }
  // Each driver implements the contracts on its own: no driver imports another or the openers.
  for (const d of DRIVERS) {
    out.push({
      target: `./src/storage/${d}`,
      from: [
        ...DRIVERS.filter((x) => x !== d).map((x) => `./src/storage/${x}`),
        ...STORAGE_OPENERS.map((o) => `./src/${o}`),
      ],
      message: 'a storage driver implements the contracts of src/storage on its own: no other driver, no opener.',
    });
  }
  return out;
}

export const layerConfigs = [
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // no-cycle follows imports into .ts files, parsed with TypeScript's parser.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      // NodeNext: `./x.js` in the source is `./x.ts` on disk.
      'import-x/resolver-next': [
        importX.createNodeResolver({ extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } }),
      ],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: root, zones: zones() }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // An import that does not resolve would slip past the layer check.
      'import-x/no-unresolved': ['error', { ignore: ['^node:'] }],
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: CORE_FORBIDDEN.map((name) => ({
            name,
            message: 'src/core is pure: of Node, only node:crypto (docs/architecture.md).',
          })),
        },
      ],
    },
  },
];
