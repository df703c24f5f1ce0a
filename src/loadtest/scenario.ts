// A loadtest scenario file: phases on a timeline, each with its load and the faults active
// during it, and expectations per phase and origin. Read with positions, so every mistake is
// reported as file:line:column, the field, and the values that would be accepted, before any
// load is sent.
import { readFileSync } from 'node:fs'
import { LineCounter, parseDocument, isMap, isNode, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml'
import { FAULT_NAME, isRecord, readFaultBody } from '../faults/validate.js'
import type { FaultBodyInput } from '../core/faults.js'
import { parseBound, parseSeconds, type Bound } from './bounds.js'

export class ScenarioError extends Error {}


export interface PhaseOriginExpect {
  regions: Record<string, Bound>
  errors: Bound | null
  rateLimited: Bound | null
  p99: Bound | null
  timeToShift: Bound | null
}

export interface ScenarioFault { readonly name: string; readonly body: FaultBodyInput; readonly line: number }

export interface Phase {
  readonly name: string
  readonly durationMs: number
  readonly rate: number | null
  readonly connections: number | null
  readonly faults: readonly ScenarioFault[]
}

export interface Scenario {
  readonly file: string
  readonly text: string
  readonly workspace: string
  readonly model: string
  readonly path: string
  readonly method: string
  readonly body: string | null
  readonly origins: readonly string[]
  readonly rate: number | null
  readonly connections: number | null
  readonly seed: number
  readonly timeoutMs: number
  readonly phases: readonly Phase[]
  /** phase → origin (or "*") → expectations. */
  readonly expect: ReadonlyMap<string, ReadonlyMap<string, PhaseOriginExpect>>
  /** Where each checked name was written, to point at it when the gateway does not know it. */
  readonly places: ReadonlyMap<string, number>
}

const TOP = ['workspace', 'model', 'path', 'method', 'body', 'origins', 'rate', 'connections', 'seed', 'timeout', 'phases', 'expect']
const PHASE = ['name', 'duration', 'rate', 'connections', 'faults']
const EXPECT = ['regions', 'errors', 'rateLimited', 'p99', 'timeToShift']

class Reader {
  readonly lines = new LineCounter()
  constructor (readonly file: string) {}
  where (node: Node | null | undefined): string {
    const at = node?.range?.[0]
    if (at === undefined) return this.file
    const p = this.lines.linePos(at)
    return `${this.file}:${p.line}:${p.col}`
  }

  line (node: Node | null | undefined): number {
    const at = node?.range?.[0]
    return at === undefined ? 0 : this.lines.linePos(at).line
  }

  fail (node: Node | null | undefined, field: string, message: string): never {
    throw new ScenarioError(`${this.where(node)}: ${field}: ${message}`)
  }
}

// A parsed document holds nodes throughout; these read them with checks rather than trust.

/** The plain value of a scalar node (a key, a bound); undefined for anything else. */
function scalarValue (node: unknown): unknown {
  return isScalar(node) ? node.value : undefined
}

function nodeOf (v: unknown): Node | null {
  return isNode(v) ? v : null
}

/** The value node of `key` in a mapping (its key node when the value is empty); null when absent. */
function child (map: Node | null, key: string): Node | null {
  if (!isMap(map)) return null
  for (const pair of map.items) {
    if (scalarValue(pair.key) === key) return nodeOf(pair.value) ?? nodeOf(pair.key)
  }
  return null
}

function keyNode (map: Node | null, key: string): Node | null {
  if (!isMap(map)) return null
  for (const pair of map.items) if (scalarValue(pair.key) === key) return nodeOf(pair.key)
  return null
}

function keyOf (pair: Pair<unknown, unknown>): string {
  return String(scalarValue(pair.key))
}

function checkKeys (r: Reader, node: Node | null, field: string, allowed: readonly string[]): asserts node is YAMLMap<unknown, unknown> {
  if (!isMap(node)) r.fail(node, field, 'expected a mapping')
  for (const pair of node.items) {
    const k = scalarValue(pair.key)
    if (typeof k !== 'string' || !allowed.includes(k)) r.fail(nodeOf(pair.key), `${field === '' ? '' : `${field}.`}${String(k)}`, `unknown field; valid fields: ${allowed.join(', ')}`)
  }
}

function positive (r: Reader, node: Node | null, field: string, v: unknown, integer: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) r.fail(node, field, `expected a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(v)}`)
  return v
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Reads and checks a scenario file; throws ScenarioError naming file:line:col and the field. */
export function loadScenario (file: string, text = readFileSync(file, 'utf8')): Scenario {
  const r: Reader = new Reader(file)
  const doc = parseDocument(text, { lineCounter: r.lines, prettyErrors: false })
  if (doc.errors.length > 0) {
    const e = doc.errors[0]
    const p = r.lines.linePos(e?.pos[0] ?? 0)
    throw new ScenarioError(`${file}:${p.line}:${p.col}: not valid YAML: ${e?.message.split('\n')[0] ?? ''}`)
  }
  const root = doc.contents
  const SHAPE = `${file}:1:1: a scenario is a mapping with workspace, model, origins, rate and phases`
  if (root === null || !isMap(root)) throw new ScenarioError(SHAPE)
  checkKeys(r, root, '', TOP)
  const data: unknown = doc.toJS()
  if (!isRecord(data)) throw new ScenarioError(SHAPE)
  const places = new Map<string, number>()

  const optional = (key: string): string | null => {
    const v = data[key]
    if (v === undefined) return null
    if (typeof v !== 'string' || v === '') r.fail(child(root, key), key, 'expected a non-empty string')
    return v
  }
  const required = (key: string): string => optional(key) ?? r.fail(root, key, 'missing')
  const workspace = required('workspace')
  const model = required('model')
  let path = optional('path') ?? '/v1/chat/completions'
  if (path !== '' && !path.startsWith('/')) path = `/${path}`
  const method = (optional('method') ?? 'POST').toUpperCase()
  let body: string | null = null
  if (data.body !== undefined) body = typeof data.body === 'string' ? data.body : JSON.stringify(data.body)
  else if (method !== 'GET' && method !== 'HEAD') body = JSON.stringify({ model: 'agnet-loadtest', max_tokens: 16, messages: [{ role: 'user', content: 'Hello from an agnet scenario' }] })

  const originsNode = child(root, 'origins')
  const written: unknown[] = Array.isArray(data.origins) ? data.origins : []
  const origins: string[] = []
  for (const o of written) if (typeof o === 'string' && o !== '') origins.push(o)
  if (!Array.isArray(data.origins) || written.length === 0 || origins.length !== written.length) r.fail(originsNode ?? root, 'origins', 'expected a list of origins such as [DE, US] (region names or ISO country codes)')
  if (new Set(origins).size !== origins.length) r.fail(originsNode, 'origins', 'an origin is listed twice')
  origins.forEach((o, i) => { places.set(`origin:${o}`, r.line(isSeq(originsNode) ? nodeOf(originsNode.items[i]) : originsNode)) })

  const rate = data.rate === undefined ? null : positive(r, child(root, 'rate'), 'rate', data.rate, false)
  const connections = data.connections === undefined ? null : positive(r, child(root, 'connections'), 'connections', data.connections, true)
  const seed = data.seed === undefined ? 1 : positive(r, child(root, 'seed'), 'seed', data.seed, true)
  const timeoutMs = data.timeout === undefined ? 30_000 : (parseSeconds(data.timeout) ?? r.fail(child(root, 'timeout'), 'timeout', 'expected a duration such as "30s"'))

  const phasesNode = child(root, 'phases')
  if (phasesNode === null || !isSeq(phasesNode) || phasesNode.items.length === 0) r.fail(phasesNode ?? root, 'phases', 'expected a non-empty list of phases, each with a name and a duration')
  const phases: Phase[] = []
  const faultNames = new Map<string, string>()
  const phaseData: unknown[] = Array.isArray(data.phases) ? data.phases : []
  phasesNode.items.forEach((pn, i) => {
    const node = nodeOf(pn)
    const field = `phases[${i}]`
    checkKeys(r, node, field, PHASE)
    const p = phaseData[i]
    if (!isRecord(p)) r.fail(node, field, 'expected a mapping')
    if (typeof p.name !== 'string' || !NAME.test(p.name)) r.fail(child(node, 'name') ?? node, `${field}.name`, 'expected a name of lower-case letters, digits and hyphens')
    if (phases.some(x => x.name === p.name)) r.fail(child(node, 'name'), `${field}.name`, `phase "${p.name}" is defined twice`)
    const durationMs = parseSeconds(p.duration) ?? r.fail(child(node, 'duration') ?? node, `${field}.duration`, 'expected a duration such as "5s", "500ms" or "2m"')
    const prate = p.rate === undefined ? null : positive(r, child(node, 'rate'), `${field}.rate`, p.rate, false)
    const pconn = p.connections === undefined ? null : positive(r, child(node, 'connections'), `${field}.connections`, p.connections, true)
    if (prate === null && pconn === null && rate === null && connections === null) r.fail(node, `${field}`, 'no load: set rate (requests per second per origin) or connections, at the top or in the phase')
    const faults: ScenarioFault[] = []
    const fnode = child(node, 'faults')
    if (p.faults !== undefined) {
      if (!Array.isArray(p.faults) || !isSeq(fnode)) r.fail(fnode, `${field}.faults`, 'expected a list of faults')
      const written: unknown[] = p.faults
      written.forEach((o, j) => {
        const fn = nodeOf(fnode.items[j])
        const ff = `${field}.faults[${j}]`
        if (!isRecord(o) || typeof o.name !== 'string' || !FAULT_NAME.test(o.name)) r.fail(child(fn, 'name') ?? fn, `${ff}.name`, 'each fault needs a name of lower-case letters, digits and hyphens')
        const name = o.name
        const read = readFaultBody(o)
        if (read.problem !== null) r.fail(child(fn, read.problem.field) ?? keyNode(fn, read.problem.field) ?? fn, `${ff}.${read.problem.field}`, read.problem.message)
        const body = read.body
        const bodyJson = JSON.stringify(body)
        const before = faultNames.get(name)
        if (before !== undefined && before !== bodyJson) r.fail(child(fn, 'name'), `${ff}.name`, `fault "${name}" is used with two different definitions; give them different names`)
        faultNames.set(name, bodyJson)
        for (const t of ['region', 'deployment'] as const) if (typeof o[t] === 'string') places.set(`${t}:${o[t]}`, r.line(child(fn, t)))
        faults.push({ name, body: { ...body, seed: body.seed ?? seed }, line: r.line(fn) })
      })
    }
    phases.push({ name: p.name, durationMs, rate: prate, connections: pconn, faults })
  })

  const expect = new Map<string, Map<string, PhaseOriginExpect>>()
  const enode = child(root, 'expect')
  if (data.expect !== undefined) {
    if (!isMap(enode)) r.fail(enode, 'expect', 'expected a mapping of phase → origin → expectations')
    for (const pair of enode.items) {
      const phase = keyOf(pair)
      if (!phases.some(p => p.name === phase)) r.fail(nodeOf(pair.key), `expect.${phase}`, `unknown phase "${phase}"; valid phases: ${phases.map(p => p.name).join(', ')}`)
      const pv = nodeOf(pair.value)
      if (!isMap(pv)) r.fail(pv, `expect.${phase}`, 'expected a mapping of origin → expectations')
      const byOrigin = new Map<string, PhaseOriginExpect>()
      for (const op of pv.items) {
        const origin = keyOf(op)
        const field = `expect.${phase}.${origin}`
        if (origin !== '*' && !origins.includes(origin)) r.fail(nodeOf(op.key), field, `unknown origin "${origin}"; valid origins: ${origins.join(', ')}, or * for all`)
        const en = nodeOf(op.value)
        checkKeys(r, en, field, EXPECT)
        const e: PhaseOriginExpect = { regions: {}, errors: null, rateLimited: null, p99: null, timeToShift: null }
        const rn = child(en, 'regions')
        if (rn !== null) {
          if (!isMap(rn)) r.fail(rn, `${field}.regions`, 'expected a mapping of region → share such as ">=0.9"')
          for (const rp of rn.items) {
            const region = keyOf(rp)
            const b = parseBound(scalarValue(rp.value), 'fraction')
            if (b === null) r.fail(nodeOf(rp.value), `${field}.regions.${region}`, 'expected a share between 0 and 1, such as ">=0.9", "<=0.05" or 0.5')
            e.regions[region] = b
            places.set(`region:${region}`, r.line(nodeOf(rp.key)))
          }
        }
        for (const k of ['errors', 'rateLimited'] as const) {
          const n = child(en, k)
          if (n === null) continue
          e[k] = parseBound(scalarValue(n), 'fraction') ?? r.fail(n, `${field}.${k}`, 'expected a fraction such as "<=0.01"')
        }
        for (const k of ['p99', 'timeToShift'] as const) {
          const n = child(en, k)
          if (n === null) continue
          e[k] = parseBound(scalarValue(n), 'ms') ?? r.fail(n, `${field}.${k}`, 'expected a duration bound such as "<=500ms" or "<=3s"')
        }
        byOrigin.set(origin, e)
      }
      expect.set(phase, byOrigin)
    }
  }
  return { file, text, workspace, model, path, method, body, origins, rate, connections, seed, timeoutMs, phases, expect, places }
}

/** Checks the names the gateway knows (regions, deployments of the model); throws ScenarioError. */
export function checkAgainstGateway (s: Scenario, known: { regions: readonly string[]; deployments: readonly string[]; badOrigins: readonly string[] }): void {
  const at = (key: string): string => `${s.file}:${s.places.get(key) ?? 1}`
  for (const o of known.badOrigins) throw new ScenarioError(`${at(`origin:${o}`)}: origins: unknown origin "${o}"; use a region (${known.regions.join(', ')}) or an ISO country code such as DE or US`)
  for (const p of s.phases) {
    for (const f of p.faults) {
      if (f.body.region !== undefined && !known.regions.includes(f.body.region)) throw new ScenarioError(`${s.file}:${f.line}: phases.${p.name}.faults.${f.name}.region: unknown region "${f.body.region}"; valid regions of ${s.workspace}/${s.model}: ${known.regions.join(', ')}`)
      if (f.body.deployment !== undefined && !known.deployments.includes(f.body.deployment)) throw new ScenarioError(`${s.file}:${f.line}: phases.${p.name}.faults.${f.name}.deployment: unknown deployment "${f.body.deployment}"; valid deployments of ${s.workspace}/${s.model}: ${known.deployments.join(', ')}`)
    }
  }
  for (const [phase, byOrigin] of s.expect) {
    for (const [origin, e] of byOrigin) {
      for (const region of Object.keys(e.regions)) {
        if (!known.regions.includes(region)) throw new ScenarioError(`${at(`region:${region}`)}: expect.${phase}.${origin}.regions.${region}: unknown region "${region}"; valid regions of ${s.workspace}/${s.model}: ${known.regions.join(', ')}`)
      }
    }
  }
}
