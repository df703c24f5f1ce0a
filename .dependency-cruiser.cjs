// The layers of ARCHITECTURE.md as rules: imports point down, never up, never sideways
// between stages or planes, and never in a cycle (type-only imports included: a cycle of
// types still ties the files together). Paths match with or without a leading folder so the
// same rules run on test/fixtures/layers (the proof that a deliberate upward import fails).
const SRC = '(^|/)src/'
const CORE = `${SRC}core/`
const SCHEMA = `${SRC}config/schema\\.ts$`
const DEFAULT_VALUES = `${SRC}config/default-values\\.ts$`
const CONFIG_INPUT = `${SRC}config/(schema|default-values|defaults|parsed|problems|source-map|manifests|compile-context|load|yaml-files|load-worker|load-off-thread|snapshot)\\.ts$`
const CONFIG_BUILD = `${SRC}config/(compile|store|reload-guard)\\.ts$`
const UTIL = `${SRC}observability/(format|logger|line-writer)\\.ts$`
const OBSERVERS = `${SRC}observability/(access-log|metrics)\\.ts$`
const STAGES = `${SRC}(auth|access|routing|usage|proxy|faults)/`
const EDGE = `${SRC}edge/`
const PLANES = `${SRC}(run-plane|control-plane|playground)/`
const APP = `${SRC}app\\.ts$`
const TOOLS = `${SRC}((cli|loadtest|mock)/|server\\.ts$)`

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'Import cycles make the order of loading and of reading matter; break them by moving the shared type down.',
      severity: 'error',
      from: {},
      to: { circular: true }
    },
    {
      name: 'core-imports-nothing',
      comment: 'src/core is the bottom layer: it imports nothing of agnet\'s (the config schema and its table of defaults aside).',
      severity: 'error',
      from: { path: CORE },
      to: { path: SRC, pathNot: [CORE, SCHEMA, DEFAULT_VALUES] }
    },
    {
      name: 'default-values-is-a-leaf',
      comment: 'The table of defaults imports nothing of agnet\'s, so the schema can read it.',
      severity: 'error',
      from: { path: DEFAULT_VALUES },
      to: { path: SRC }
    },
    {
      name: 'schema-reads-core-and-defaults',
      comment: 'The schema is read by core: it imports core and the table of defaults only.',
      severity: 'error',
      from: { path: SCHEMA },
      to: { path: SRC, pathNot: [CORE, DEFAULT_VALUES] }
    },
    {
      name: 'config-input-below-stages',
      comment: 'Loading and validating the config needs core only.',
      severity: 'error',
      from: { path: CONFIG_INPUT },
      to: { path: SRC, pathNot: [CORE, CONFIG_INPUT] }
    },
    {
      name: 'utilities-below-stages',
      comment: 'Formatting and log writing need nothing of agnet\'s.',
      severity: 'error',
      from: { path: UTIL },
      to: { path: SRC, pathNot: [CORE, UTIL] }
    },
    {
      name: 'stages-import-down-and-own-folder',
      comment: 'A stage (auth, access, routing, usage, proxy, faults) imports core, config input, utilities and its own folder: never another stage, a plane, the app or a tool.',
      severity: 'error',
      from: { path: `${SRC}(auth|access|routing|usage|proxy|faults)/` },
      to: { path: SRC, pathNot: [CORE, CONFIG_INPUT, UTIL, `${SRC}$2/`] }
    },
    {
      name: 'config-build-below-planes',
      comment: 'Compiling the config calls the stages\' compilers; it never reaches a plane, an observer, the app or a tool.',
      severity: 'error',
      from: { path: CONFIG_BUILD },
      to: { path: [EDGE, PLANES, OBSERVERS, APP, TOOLS] }
    },
    {
      name: 'observers-read-records',
      comment: 'The access log and metrics read core records and the config store, not stages or planes.',
      severity: 'error',
      from: { path: OBSERVERS },
      to: { path: [STAGES, EDGE, PLANES, APP, TOOLS] }
    },
    {
      name: 'edge-below-planes',
      comment: 'The HTTP surface\'s shared checks (admission, client errors, closing) serve the app and the run plane; they never reach up to them.',
      severity: 'error',
      from: { path: EDGE },
      to: { path: [PLANES, APP, TOOLS] }
    },
    {
      name: 'planes-apart',
      comment: 'The run plane, the control plane and the playground share stages, never each other.',
      severity: 'error',
      from: { path: `${SRC}(run-plane|control-plane|playground)/` },
      to: { path: PLANES, pathNot: `${SRC}$2/` }
    },
    {
      name: 'planes-below-app',
      severity: 'error',
      from: { path: PLANES },
      to: { path: [APP, TOOLS] }
    },
    {
      name: 'app-below-tools',
      severity: 'error',
      from: { path: APP },
      to: { path: TOOLS }
    },
    {
      name: 'mock-standalone',
      comment: 'The mock upstreams stand for providers: they import nothing of the gateway.',
      severity: 'error',
      from: { path: `${SRC}mock/` },
      to: { path: SRC, pathNot: `${SRC}mock/` }
    }
  ],
  options: {
    // Type-only imports count: they tie files together as much as any.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
