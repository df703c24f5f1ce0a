// Checks a fault body and names the first wrong field with the values it accepts. Used by
// the HTTP API, `agnet chaos` and loadtest scenarios, so all three explain a mistake the same way.
import { Ajv2019 } from 'ajv/dist/2019.js'
import { FAULT_EFFECTS, FaultBody, type FaultBodyInput } from '../core/faults.js'
import { isRecord } from '../core/json.js'
export { isRecord }

export interface FieldProblem {
  readonly field: string
  readonly message: string
}

const validate = new Ajv2019({ allErrors: true, strict: false, allowUnionTypes: true }).compile<FaultBodyInput>(FaultBody)
const FIELDS = Object.keys(FaultBody.properties)
const EFFECTS: ReadonlySet<string> = new Set(FAULT_EFFECTS)

/** A fault body read from JSON or YAML: the typed body, or the first problem by field. */
export type FaultBodyReading =
  | { readonly body: FaultBodyInput; readonly problem: null }
  | { readonly body: null; readonly problem: FieldProblem }

/** Checks `body` (a `name` field aside) and returns it typed, or the first problem, by field. */
export function readFaultBody (body: unknown): FaultBodyReading {
  const fail = (field: string, message: string): FaultBodyReading => ({ body: null, problem: { field, message } })
  if (!isRecord(body)) return fail('(body)', 'a fault is a JSON object such as {"region":"eu-fra-1","effect":"down"}')
  for (const k of Object.keys(body)) {
    if (k === 'name') continue
    if (!FIELDS.includes(k)) return fail(k, `unknown field "${k}"; valid fields: ${FIELDS.join(', ')}`)
  }
  if (body.effect === undefined) return fail('effect', `missing; valid effects: ${FAULT_EFFECTS.join(', ')}`)
  if (typeof body.effect !== 'string' || !EFFECTS.has(body.effect)) return fail('effect', `unknown effect ${JSON.stringify(body.effect)}; valid effects: ${FAULT_EFFECTS.join(', ')}`)
  const { name: _name, ...rest } = body
  if (validate(rest)) return { body: rest, problem: null }
  const e = (validate.errors ?? [])[0]
  if (e === undefined) return fail('(body)', 'invalid fault')
  const field = e.instancePath.replace(/^\//, '') || '(body)'
  const hint = field === 'region' || field === 'deployment' || field === 'workspace' || field === 'model' ? ' (lower-case letters, digits, hyphens)' : ''
  return fail(field, `${e.message ?? 'is invalid'}${hint}`)
}

export const FAULT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
