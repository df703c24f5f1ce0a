// `agnet run model <name>`: one inference request through a gateway, mirroring `bl run`
// (toolkit cli/run.go): the same flags, the same default-path choice (the model's integration
// endpoints, one containing "completions" preferred), the same headers, and the model's
// metadata.url as the base. Streams are printed as they arrive; a status of 400 or more exits 1.
import { readFileSync } from 'node:fs'
import { extname } from 'node:path'
import type { Command } from 'commander'
import { request } from 'undici'
import { parse as parseYaml } from 'yaml'
import { DEFAULTS } from '../config/default-values.js'
import { errorCode, errorMessage, isRecord, valueAt } from '../config/parsed.js'

export interface RunFlags {
  path?: string
  data?: string
  file?: string
  method: string
  header: string[]
  params: string[]
  stream?: boolean
  workspace?: string
  debug?: boolean
  output: string
  url?: string
  apiKey?: string
  timeout?: string
}

interface Target { apiUrl: string; runUrl: string }

const VERSION = '0.1.0'
const STREAM_TYPES = ['text/event-stream', 'text/plain', 'application/x-ndjson']
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-blaxel-authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie'])

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}

function trimSlash (u: string): string {
  return u.replace(/\/+$/, '')
}

/** Control plane and run plane: --url wins, then BL_API_URL / BL_RUN_URL, then AGNET_URL, then localhost on the default port. */
export function resolveTarget (flags: Pick<RunFlags, 'url'>, env: NodeJS.ProcessEnv): Target {
  const url = flags.url ?? null
  if (url !== null) return { apiUrl: `${trimSlash(url)}/v0`, runUrl: trimSlash(url) }
  const base = trimSlash(env.AGNET_URL ?? `http://localhost:${env.AGNET_PORT ?? DEFAULTS.server.port}`)
  return { apiUrl: trimSlash(env.BL_API_URL ?? `${base}/v0`), runUrl: trimSlash(env.BL_RUN_URL ?? base) }
}

/** `--header 'Key: Value'` → [key, value]; anything else is refused as bl does. */
export function parseHeader (h: string): [string, string] {
  const i = h.indexOf(':')
  if (i <= 0) throw new Error(`invalid header format '${h}'. Must be 'Key: Value'`)
  return [h.slice(0, i).trim(), h.slice(i + 1).trim()]
}

/** `--params k=v` (repeatable, or comma-separated as cobra's StringSlice splits them) → query string. */
export function buildQuery (params: readonly string[]): string {
  const q = new URLSearchParams()
  for (const item of params) {
    for (const p of item.split(',')) {
      if (p === '') continue
      const i = p.indexOf('=')
      if (i < 0) q.append(p, '')
      else q.append(p.slice(0, i), p.slice(i + 1))
    }
  }
  const s = q.toString()
  return s === '' ? '' : `?${s}`
}

/** The body: --data verbatim, or --file (JSON verbatim; YAML converted to JSON). */
export function readBody (flags: Pick<RunFlags, 'data' | 'file'>): string | null {
  if (flags.file !== undefined) {
    const text = readFileSync(flags.file, 'utf8')
    const ext = extname(flags.file).toLowerCase()
    if (ext === '.yaml' || ext === '.yml') return JSON.stringify(parseYaml(text))
    try {
      JSON.parse(text)
      return text
    } catch {
      // Neither named YAML nor valid JSON: YAML is a superset of JSON, so try it.
      return JSON.stringify(parseYaml(text))
    }
  }
  return flags.data ?? null
}

/** Picks the default path like bl run: a path containing "completions", else the first one. */
export function chooseDefaultPath (endpoints: Record<string, unknown>, runtimeModel: string | null): string {
  const keys = Object.keys(endpoints)
  const key = keys.find(k => k.includes('completions')) ?? keys[0] ?? ''
  return runtimeModel === null ? key : key.replace('{model}', runtimeModel)
}

interface Auth { headers: Record<string, string> }

async function getJson (url: string, headers: Record<string, string>): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { method: 'GET', headers })
  const text = await res.body.text()
  let body: unknown = null
  try { body = JSON.parse(text) } catch { body = null }
  return { status: res.statusCode, body }
}

/** Credentials as bl reads them: an API key (Authorization), else client credentials (a token, X-Blaxel-Authorization). */
async function authenticate (flags: RunFlags, env: NodeJS.ProcessEnv, target: Target, userAgent: string): Promise<Auth> {
  const apiKey = flags.apiKey ?? env.BL_API_KEY
  if (apiKey !== undefined && apiKey !== '') return { headers: { authorization: `Bearer ${apiKey}` } }
  const cc = env.BL_CLIENT_CREDENTIALS
  if (cc !== undefined && cc !== '') {
    const res = await request(`${target.apiUrl}/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${cc}`, 'content-type': 'application/json', 'user-agent': userAgent },
      body: JSON.stringify({ grant_type: 'client_credentials' })
    })
    const body: unknown = await res.body.json()
    const token = valueAt(body, 'access_token')
    if (res.statusCode !== 200 || typeof token !== 'string') {
      const error = valueAt(body, 'error')
      throw new Error(`the token issuer refused the client credentials (${res.statusCode} ${typeof error === 'string' ? error : ''})`.trim())
    }
    return { headers: { 'x-blaxel-authorization': `Bearer ${token}` } }
  }
  return { headers: {} }
}

function customHeaders (env: NodeJS.ProcessEnv): Array<[string, string]> {
  const raw = env.BLAXEL_CUSTOM_HEADERS
  if (raw === undefined || raw.trim() === '') return []
  return raw.split(/\r?\n|,/).map(s => s.trim()).filter(Boolean).map(parseHeader)
}

export async function runModel (type: string, name: string, flags: RunFlags, env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  if (type !== 'model' && type !== 'models') throw new Error(`agnet runs models only ("agnet run model <name>"), not "${type}"`)
  if (flags.output !== 'json' && flags.output !== 'pretty') throw new Error(`unknown output format "${flags.output}"; use json or pretty`)
  const target = resolveTarget(flags, env)
  const userAgent = `agnet/cli/${VERSION} (${process.platform}/${process.arch})`
  const headers: Record<string, string> = { 'user-agent': userAgent }
  const auth = await authenticate(flags, env, target, userAgent)
  Object.assign(headers, auth.headers)

  let workspace = flags.workspace ?? env.BL_WORKSPACE ?? ''
  if (workspace === '') {
    // No workspace named: the credential's, when it reaches exactly one.
    const list = await getJson(`${target.apiUrl}/workspaces`, headers)
    const names = Array.isArray(list.body) ? list.body.map(w => valueAt(w, 'name')).filter((n): n is string => typeof n === 'string') : []
    const [only] = names
    if (names.length !== 1 || only === undefined) throw new Error('no workspace: pass -w <workspace> or set BL_WORKSPACE')
    workspace = only
  }
  headers['x-blaxel-workspace'] = workspace

  // The model's metadata: its URL is the base (bl's RunWithMetadata), its type picks the default path.
  let base = `${target.runUrl}/${workspace}/models/${name}`
  let path = flags.path ?? ''
  try {
    const meta = await getJson(`${target.apiUrl}/models/${encodeURIComponent(name)}`, headers)
    const model = meta.status === 200 ? meta.body : null
    const modelUrl = valueAt(model, 'metadata', 'url')
    if (typeof modelUrl === 'string' && modelUrl !== '') base = trimSlash(modelUrl)
    const rtType = valueAt(model, 'spec', 'runtime', 'type')
    if (path === '' && typeof rtType === 'string') {
      const integ = await getJson(`${target.apiUrl}/integrations/${encodeURIComponent(rtType)}`, headers)
      const endpoints = valueAt(integ.body, 'endpoints')
      if (integ.status === 200 && isRecord(endpoints)) {
        const runtimeModel = valueAt(model, 'spec', 'runtime', 'model')
        path = chooseDefaultPath(endpoints, typeof runtimeModel === 'string' ? runtimeModel : null)
        if (path !== '') err.write(`Using default path: ${path}, you can change it by specifying it with --path PATH\n`)
      }
    }
  } catch {
    // As in bl: metadata problems leave the defaults (run URL, empty path); the request decides.
  }
  if (path !== '' && !path.startsWith('/')) path = `/${path}`

  for (const [k, v] of customHeaders(env)) headers[k.toLowerCase()] = v
  for (const h of flags.header) {
    const [k, v] = parseHeader(h)
    headers[k.toLowerCase()] = v
  }
  if (flags.stream === true) {
    headers.accept ??= 'text/event-stream'
    headers['cache-control'] ??= 'no-cache'
  }
  const body = readBody(flags)
  if (body !== null) headers['content-type'] ??= 'application/json'
  const method = flags.method.toUpperCase()
  const url = `${base}${path}${buildQuery(flags.params)}`
  if (flags.debug === true) {
    err.write(`Request URL: ${url}\nRequest method: ${method}\nRequest headers:\n`)
    // Credentials are shown by scheme only: debug output ends up in terminals and CI logs.
    for (const [k, v] of Object.entries(headers)) err.write(`  ${k}: ${CREDENTIAL_HEADERS.has(k) ? `${v.split(' ')[0] ?? ''} ***` : v}\n`)
    if (body !== null) err.write(`Request body: ${body}\n`)
  }

  const timeoutS = flags.timeout === undefined ? 0 : Number(flags.timeout)
  if (!Number.isFinite(timeoutS) || timeoutS < 0) throw new Error(`invalid --timeout "${flags.timeout}"`)
  const res = await request(url, {
    method,
    headers,
    body: body ?? undefined,
    // LLM answers can take minutes: no library default decides; --timeout bounds the whole call.
    headersTimeout: 0,
    bodyTimeout: 0,
    signal: timeoutS > 0 ? AbortSignal.timeout(timeoutS * 1000) : undefined
  })
  if (res.statusCode >= 400) err.write(`response status: ${res.statusCode}\n`)
  if (flags.debug === true) {
    err.write(`Response status: ${res.statusCode}\nResponse headers:\n`)
    for (const [k, v] of Object.entries(res.headers)) err.write(`  ${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}\n`)
  }
  const ctype = String(res.headers['content-type'] ?? '').toLowerCase()
  if (flags.stream === true || STREAM_TYPES.some(t => ctype.startsWith(t))) {
    // Each chunk goes out as it arrives.
    for await (const chunk of res.body) out.write(chunk)
  } else {
    const text = await res.body.text()
    let printed = text
    try {
      const parsed: unknown = JSON.parse(text)
      printed = flags.output === 'json' ? JSON.stringify(parsed) : JSON.stringify(parsed, null, 2)
    } catch {
      // Not JSON: printed as received.
    }
    out.write(printed.endsWith('\n') ? printed : `${printed}\n`)
  }
  return res.statusCode >= 400 ? 1 : 0
}

export function registerRun (program: Command): void {
  program.command('run')
    .description('Send one request to a model through a gateway, like `bl run model <name>`.')
    .argument('<type>', 'resource type: model')
    .argument('<name>', 'model name')
    .option('--path <path>', 'sub-path, e.g. /v1/chat/completions (default: chosen from the model\'s integration)')
    .option('-d, --data <json>', 'request body')
    .option('-f, --file <path>', 'request body from a JSON or YAML file')
    .option('--method <method>', 'HTTP method', 'POST')
    .option('--header <header>', 'request header "Key: Value" (repeatable)', collect, [])
    .option('--params <k=v>', 'query parameter (repeatable, or comma-separated)', collect, [])
    .option('--stream', 'ask for a stream (Accept: text/event-stream) and print it as it arrives')
    .option('-w, --workspace <workspace>', 'workspace (env BL_WORKSPACE)')
    .option('--debug', 'print the request and the response headers on stderr')
    .option('-o, --output <format>', 'json (compact) or pretty', 'pretty')
    .option('--url <url>', 'gateway base URL: control plane <url>/v0, run plane <url> (env AGNET_URL, or BL_API_URL and BL_RUN_URL)')
    .option('--api-key <key>', 'API key (env BL_API_KEY; BL_CLIENT_CREDENTIALS also works)')
    .option('--timeout <seconds>', 'give up after this many seconds (default: no limit)')
    .action(async (type: string, name: string, flags: RunFlags) => {
      try {
        process.exitCode = await runModel(type, name, flags)
      } catch (e) {
        const code = errorCode(e)
        const hint = code === 'ECONNREFUSED' || code === 'ENOTFOUND' ? ' (is agnet running there? start it with `agnet serve`, or point --url / AGNET_URL at it)' : ''
        process.stderr.write(`agnet run: ${errorMessage(e)}${hint}\n`)
        process.exitCode = 1
      }
    })
}
