// The raw request target → (workspace, model, sub-path + query), computed once. Everything
// downstream (auth, access, routing, limits, the upstream URL) derives from this one value,
// and anything that does not canonicalise cleanly is a 400 that never reaches an upstream.
import { EdgeError } from '../core/errors.js'

export interface RunTarget {
  readonly workspace: string
  readonly model: string
  /** Sub-path and query exactly as received: '' or starting with '/' or '?'. */
  readonly rest: string
}

export type TargetProblem = 'absolute-form' | 'bad-character' | 'encoded-separator' | 'dot-segment' | 'bad-name' | 'not-a-model-route'

const WORKSPACE_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const MODEL_NAME = /^[a-z0-9](?:[a-z0-9-]{0,47}[a-z0-9])?$/

/** Does this raw target belong to the run plane? Cheap test used to split traffic from Fastify. */
export function isRunPlanePath (url: string, offset: number): boolean {
  // /{ws}/models/... : find the second slash, then "models" followed by '/', '?' or the end.
  const second = url.indexOf('/', offset + 1)
  if (second < 0) return false
  if (!url.startsWith('models', second + 1)) return false
  const after = url.charCodeAt(second + 7)
  return Number.isNaN(after) || after === 47 /* / */ || after === 63 /* ? */
}

/**
 * Parses `/{ws}/models/{model}[/sub-path][?query]` starting at `offset` (0, or 4 for the
 * `/run` alias). Returns a problem code instead of guessing.
 */
export function parseRunTarget (url: string, offset = 0): RunTarget | TargetProblem {
  if (url.charCodeAt(offset) !== 47) return 'absolute-form'
  const q = url.indexOf('?', offset)
  const pathEnd = q < 0 ? url.length : q
  // One pass over the path: control characters, backslashes, encoded separators and dots.
  let segStart = offset + 1
  for (let i = offset; i <= pathEnd; i++) {
    const c = i === pathEnd ? 47 : url.charCodeAt(i)
    if (c < 0x21 || c === 0x7f || c === 0x5c /* \ */) return 'bad-character'
    if (c === 37 /* % */) {
      const a = url.charCodeAt(i + 1)
      const b = url.charCodeAt(i + 2) | 0x20
      // %2e %2f %5c %00 (any case): encoded dots, slashes, backslashes and NUL are refused.
      if ((a === 50 && (b === 0x65 || b === 0x66)) || (a === 53 && b === 0x63) || (a === 48 && b === 0x30)) return 'encoded-separator'
    }
    if (c === 47 && i > offset) {
      const len = i - segStart
      if ((len === 1 && url.charCodeAt(segStart) === 46) || (len === 2 && url.charCodeAt(segStart) === 46 && url.charCodeAt(segStart + 1) === 46)) return 'dot-segment'
      segStart = i + 1
    }
  }
  for (let i = pathEnd; i < url.length; i++) {
    const c = url.charCodeAt(i)
    if (c < 0x20 || c === 0x7f) return 'bad-character'
  }
  const s1 = url.indexOf('/', offset + 1)
  if (s1 < 0 || s1 > pathEnd) return 'not-a-model-route'
  const workspace = url.slice(offset + 1, s1)
  if (!url.startsWith('models', s1 + 1)) return 'not-a-model-route'
  const modelStart = s1 + 8
  if (url.charCodeAt(s1 + 7) !== 47 || modelStart > pathEnd) return 'not-a-model-route'
  let modelEnd = url.indexOf('/', modelStart)
  if (modelEnd < 0 || modelEnd > pathEnd) modelEnd = pathEnd
  const model = url.slice(modelStart, modelEnd)
  if (!WORKSPACE_NAME.test(workspace) || !MODEL_NAME.test(model)) return 'bad-name'
  return { workspace, model, rest: url.slice(modelEnd) }
}

const TARGET_ERRORS: Readonly<Record<TargetProblem, EdgeError>> = {
  'absolute-form': new EdgeError('BAD_REQUEST', 'Absolute-form request targets are not accepted; send the path only.'),
  'bad-character': new EdgeError('BAD_REQUEST', 'The path contains a control character or a backslash.'),
  'encoded-separator': new EdgeError('BAD_REQUEST', 'The path contains an encoded dot, slash, backslash or NUL (%2e, %2f, %5c, %00).'),
  'dot-segment': new EdgeError('BAD_REQUEST', 'The path contains a "." or ".." segment.'),
  'bad-name': new EdgeError('BAD_REQUEST', 'Workspace and model names are lower-case letters, digits and hyphens (models: at most 49 characters).'),
  'not-a-model-route': new EdgeError('ROUTE_NOT_FOUND', 'Use /{workspace}/models/{model}[/sub-path].')
}

/** The answer to a target that does not parse. */
export function targetError (problem: TargetProblem): EdgeError {
  return TARGET_ERRORS[problem]
}
