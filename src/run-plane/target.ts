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

export type TargetProblem = 'absolute-form' | 'bad-character' | 'encoded-separator' | 'double-encoded' | 'encoded-control' | 'dot-segment' | 'double-slash' | 'bad-name' | 'not-a-model-route'

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
      const problem = encodedProblem(url, i, true)
      if (problem !== null) return problem
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
    if (c === 37 /* % */) {
      const problem = encodedProblem(url, i, false)
      if (problem !== null) return problem
    }
  }
  const s1 = url.indexOf('/', offset + 1)
  if (s1 < 0 || s1 > pathEnd) return 'not-a-model-route'
  const workspace = url.slice(offset + 1, s1)
  if (!url.startsWith('models', s1 + 1)) return 'not-a-model-route'
  const modelStart = s1 + 8
  if (url.charCodeAt(s1 + 7) !== 47 || modelStart > pathEnd) return 'not-a-model-route'
  let modelEnd = url.indexOf('/', modelStart)
  if (modelEnd < 0 || modelEnd > pathEnd) modelEnd = pathEnd
  // A sub-path starting with "//" is a network-path reference to URL joiners: another host.
  if (modelEnd < pathEnd && url.charCodeAt(modelEnd + 1) === 47) return 'double-slash'
  const model = url.slice(modelStart, modelEnd)
  if (!WORKSPACE_NAME.test(workspace) || !MODEL_NAME.test(model)) return 'bad-name'
  return { workspace, model, rest: url.slice(modelEnd) }
}

/**
 * What the escape at `i` (a '%') hides that must not reach an upstream, or null. Anywhere in
 * the target: NUL, CR and LF encoded once or more, and a dot, slash or backslash encoded twice or more
 * (%252e, %25252f: an upstream that decodes again sees a separator). In the path also a
 * single-encoded dot, slash or backslash. Hex digits in any case.
 */
function encodedProblem (url: string, i: number, inPath: boolean): TargetProblem | null {
  let a = url.charCodeAt(i + 1)
  let b = url.charCodeAt(i + 2) | 0x20
  let layers = 1
  // %25 is an escaped '%': look through every layer to what is finally encoded.
  while (a === 50 && b === 0x35) {
    i += 2
    layers++
    a = url.charCodeAt(i + 1)
    b = url.charCodeAt(i + 2) | 0x20
  }
  if (a === 48 /* 0 */) return b === 0x30 || b === 0x61 /* a */ || b === 0x64 /* d */ ? 'encoded-control' : null
  const separator = (a === 50 /* 2 */ && (b === 0x65 /* e */ || b === 0x66 /* f */)) || (a === 53 /* 5 */ && b === 0x63 /* c */)
  if (!separator) return null
  if (layers > 1) return 'double-encoded'
  return inPath ? 'encoded-separator' : null
}

const TARGET_ERRORS: Readonly<Record<TargetProblem, EdgeError>> = {
  'absolute-form': new EdgeError('BAD_REQUEST', 'Absolute-form request targets are not accepted; send the path only.'),
  'bad-character': new EdgeError('BAD_REQUEST', 'The path contains a control character or a backslash.'),
  'encoded-separator': new EdgeError('BAD_REQUEST', 'The path contains an encoded dot, slash or backslash (%2e, %2f, %5c).'),
  'double-encoded': new EdgeError('BAD_REQUEST', 'The target contains a double-encoded dot, slash or backslash (%252e, %252f, %255c).'),
  'encoded-control': new EdgeError('BAD_REQUEST', 'The target contains an encoded CR, LF or NUL (%0d, %0a, %00).'),
  'double-slash': new EdgeError('BAD_REQUEST', 'The sub-path begins with "//", which an upstream could read as another host.'),
  'dot-segment': new EdgeError('BAD_REQUEST', 'The path contains a "." or ".." segment.'),
  'bad-name': new EdgeError('BAD_REQUEST', 'Workspace and model names are lower-case letters, digits and hyphens (models: at most 49 characters).'),
  'not-a-model-route': new EdgeError('ROUTE_NOT_FOUND', 'Use /{workspace}/models/{model}[/sub-path].')
}

/** The answer to a target that does not parse. */
export function targetError (problem: TargetProblem): EdgeError {
  return TARGET_ERRORS[problem]
}
