// Checks a fault body and names the first wrong field with the values it accepts. Used by
// the HTTP API, `agnet chaos` and loadtest scenarios, so all three explain a mistake the same way.
import { Ajv2019 } from 'ajv/dist/2019.js'
import { FAULT_EFFECTS, FaultBody, type FaultBodyInput } from '../core/faults.js'

export interface FieldProblem {
  readonly field: string
  readonly message: string
}

const validate = new Ajv2019({ allErrors: true, strict: false, allowUnionTypes: true }).compile<FaultBodyInput>(FaultBody)
const FIELDS = Object.keys(FaultBody.properties)

/** Null when `body` is a valid fault body; otherwise the first problem, by field. */
export function checkFaultBody (body: unknown): FieldProblem | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { field: '(body)', message: 'a fault is a JSON object such as {"region":"eu-fra-1","effect":"down"}' }
  const o = body as Record<string, unknown>
  for (const k of Object.keys(o)) {
    if (k === 'name') continue
    if (!FIELDS.includes(k)) return { field: k, message: `unknown field "${k}"; valid fields: ${FIELDS.join(', ')}` }
  }
  if (o.effect === undefined) return { field: 'effect', message: `missing; valid effects: ${FAULT_EFFECTS.join(', ')}` }
  if (typeof o.effect !== 'string' || !(FAULT_EFFECTS as readonly string[]).includes(o.effect)) return { field: 'effect', message: `unknown effect ${JSON.stringify(o.effect)}; valid effects: ${FAULT_EFFECTS.join(', ')}` }
  const { name: _name, ...rest } = o
  if (validate(rest)) return null
  const e = (validate.errors ?? [])[0]
  if (e === undefined) return { field: '(body)', message: 'invalid fault' }
  const field = e.instancePath.replace(/^\//, '') || '(body)'
  const hint = field === 'region' || field === 'deployment' || field === 'workspace' || field === 'model' ? ' (lower-case letters, digits, hyphens)' : ''
  return { field, message: `${e.message ?? 'is invalid'}${hint}` }
}

export const FAULT_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/
