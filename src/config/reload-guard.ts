// What a reload may not do by accident. A config that is valid on its own can still be the
// wrong file at the wrong moment: an editor's truncate-then-write, a credentials file emptied
// by a script, a folder caught half-copied. Swapping such a config in would switch
// authentication off or drop every route while the operator believes nothing changed, so the
// store refuses it and keeps the last good config. A restart with the same files is allowed:
// then the operator is looking, and the start-up line says the run plane is open.
import type { Runtime } from '../core/runtime.js'

export type ReloadRefusalReason = 'opens-run-plane' | 'removes-every-workspace' | 'removes-every-model'

export interface ReloadRefusal {
  readonly reason: ReloadRefusalReason
  readonly message: string
}

function modelCount (rt: Runtime): number {
  let n = 0
  for (const ws of rt.workspaces.values()) n += ws.models.size
  return n
}

/** Null when `next` may replace `previous`; otherwise why not, in words for the operator. */
export function checkReload (previous: Runtime, next: Runtime): ReloadRefusal | null {
  if (previous.identity.required && !next.identity.required && !next.identity.declaredOpen) {
    return {
      reason: 'opens-run-plane',
      message: 'the new config has no credential left (no API key, service account or external issuer), which would open the run plane to anonymous callers; if that is intended, say so with `auth.open: true`'
    }
  }
  if (previous.workspaces.size > 0 && next.workspaces.size === 0) {
    return { reason: 'removes-every-workspace', message: `the new config has no workspace left (the serving one has ${previous.workspaces.size}); restart agnet to start from an empty config` }
  }
  const before = modelCount(previous)
  if (before > 0 && modelCount(next) === 0) {
    return { reason: 'removes-every-model', message: `the new config has no model left (the serving one has ${before}); restart agnet to start from a config without models` }
  }
  return null
}

/** Thrown by a reload the guard refused; the store reports it like an invalid config. */
export class ReloadRefusedError extends Error {
  readonly reason: ReloadRefusalReason
  constructor (refusal: ReloadRefusal) {
    super(`reload refused: ${refusal.message}`)
    this.name = 'ReloadRefusedError'
    this.reason = refusal.reason
  }
}
