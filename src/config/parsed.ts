// Narrowing of values that come from outside the type system: parsed YAML or JSON, and what
// a native call throws. Each is a check, so the value is what the type says.
import { isRecord } from '../core/json.js'
export { isRecord }

export type Json = Record<string, unknown>

/** The value at a path of nested mappings (`valueAt(body, 'spec', 'runtime', 'type')`), or undefined. */
export function valueAt (v: unknown, ...keys: string[]): unknown {
  let cur = v
  for (const k of keys) {
    if (!isRecord(cur)) return undefined
    cur = cur[k]
  }
  return cur
}

/** The `code` of a Node.js system error (ENOENT, EACCES, ...), when it has one. */
export function errorCode (err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined
}

/** The message of whatever was thrown. */
export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
