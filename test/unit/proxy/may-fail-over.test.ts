// When a failed attempt may move to the next deployment: a table of failures against where the
// request stands. The cases that matter most are the resets: a POST or PATCH that went out in
// full may have run, so it stays where it is unless the model opts in.
import { describe, expect, it } from 'vitest'
import { mayFailOver, mayHaveRun, type FailoverState, type FailureKind } from '../../../src/proxy/failover.js'
import { DEFAULT_ROUTING } from '../../../src/config/defaults.js'

const BASE: FailoverState = {
  attempts: 1,
  candidates: 3,
  routing: DEFAULT_ROUTING,
  elapsedMs: 10,
  streamed: false,
  bodyRead: false,
  method: 'POST',
  requestSent: false
}
const OPT_IN = { ...DEFAULT_ROUTING, retryNonIdempotent: true }

describe('mayFailOver', () => {
  it.each<[string, Partial<FailoverState>, FailureKind, boolean]>([
    ['a connect error', {}, 'connect', true],
    ['a refusal (5xx/429)', { requestSent: true }, 'refused', true],
    ['a reset before the POST was all sent', {}, 'reset', true],
    ['a reset after the POST was sent in full', { requestSent: true }, 'reset', false],
    ['a reset after the PATCH was sent in full', { method: 'PATCH', requestSent: true }, 'reset', false],
    ['a reset after a GET was sent', { method: 'GET', requestSent: true }, 'reset', true],
    ['a reset after a PUT was sent (idempotent)', { method: 'PUT', requestSent: true }, 'reset', true],
    ['a reset after a DELETE was sent (idempotent)', { method: 'DELETE', requestSent: true }, 'reset', true],
    ['a reset after the POST was sent, model opted in', { requestSent: true, routing: OPT_IN }, 'reset', true],
    ['no attempt left', { attempts: 3 }, 'connect', false],
    ['no candidate left', { attempts: 1, candidates: 1 }, 'connect', false],
    ['the budget spent', { elapsedMs: 60_000 }, 'connect', false],
    ['a streamed body not yet read, connect error', { streamed: true }, 'connect', true],
    ['a streamed body already read, connect error', { streamed: true, bodyRead: true }, 'connect', false],
    ['a streamed body, reset', { streamed: true }, 'reset', false]
  ])('%s → %s', (_what, over, kind, expected) => {
    expect(mayFailOver({ ...BASE, ...over }, kind)).toBe(expected)
  })
})

describe('mayHaveRun', () => {
  it.each<[string, string, boolean, boolean, FailureKind, boolean]>([
    // what, method, requestSent, retryNonIdempotent, kind, may have run
    ['POST sent in full, reset', 'POST', true, false, 'reset', true],
    ['PATCH sent in full, reset', 'PATCH', true, false, 'reset', true],
    ['POST not all sent, reset', 'POST', false, false, 'reset', false],
    ['POST sent in full, connect error', 'POST', true, false, 'connect', false],
    ['POST sent in full, refused', 'POST', true, false, 'refused', false],
    ['POST sent in full, model opted in', 'POST', true, true, 'reset', false],
    ['HEAD sent', 'HEAD', true, false, 'reset', false],
    ['OPTIONS sent', 'OPTIONS', true, false, 'reset', false]
  ])('%s', (_what, method, requestSent, optIn, kind, expected) => {
    expect(mayHaveRun({ method, requestSent, routing: { ...DEFAULT_ROUTING, retryNonIdempotent: optIn } }, kind)).toBe(expected)
  })
})
