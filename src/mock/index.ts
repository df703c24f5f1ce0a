// Public surface of the mock upstreams (tests, benchmarks, `agnet demo`).
export { startMockServer, createMockHandler, providerForPath, MAX_BODY_BYTES } from './server.js'
export type { MockOptions, MockServer, MockHandler, MockStats, ProviderKind } from './server.js'
export { startMockFleet } from './fleet.js'
export type { MockFleet } from './fleet.js'
export { countWords, countPromptTokens, generateWords, maxOutputTokens, makeReply, DEFAULT_OUTPUT_WORDS, MAX_OUTPUT_WORDS } from './text.js'
