// Transport errors → typed failures. The kind decides failover (never a timeout: the upstream
// may still be working), the entry decides the answer.
import { describe, expect, it } from 'vitest'
import { AttemptStopped, BODY_TOO_LARGE, CLIENT_ABORT, TOTAL_TIMEOUT, classifyUpstreamError } from '../../../src/proxy/upstream-errors.js'

function withCode (code: string): Error {
  return Object.assign(new Error(code), { code })
}

describe('classifyUpstreamError', () => {
  it.each([
    ['ECONNREFUSED', 'connect', true, 'UPSTREAM_REFUSED'],
    ['ENOTFOUND', 'connect', true, 'UPSTREAM_REFUSED'],
    ['EHOSTUNREACH', 'connect', true, 'UPSTREAM_REFUSED'],
    ['EAI_AGAIN', 'connect', true, 'UPSTREAM_REFUSED'],
    ['UND_ERR_CONNECT_TIMEOUT', 'connect', true, 'UPSTREAM_CONNECT_TIMEOUT'],
    ['ECONNRESET', 'reset', true, 'UPSTREAM_RESET'],
    ['EPIPE', 'reset', true, 'UPSTREAM_RESET'],
    ['UND_ERR_SOCKET', 'reset', true, 'UPSTREAM_RESET'],
    ['UND_ERR_CLOSED', 'reset', true, 'UPSTREAM_RESET'],
    ['UND_ERR_HEADERS_TIMEOUT', 'timeout', false, 'UPSTREAM_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'timeout', false, 'UPSTREAM_TIMEOUT'],
    ['HPE_INVALID_CONSTANT', 'protocol', false, 'UPSTREAM_PROTOCOL'],
    ['SOMETHING_NEW', 'protocol', false, 'UPSTREAM_PROTOCOL']
  ])('%s → %s, failover %s, answered %s', (code, kind, failover, error) => {
    const f = classifyUpstreamError(withCode(code))
    expect({ kind: f.kind, failover: f.failover, error: f.error, code: f.code }).toEqual({ kind, failover, error, code })
    expect(f.message).not.toContain(code)
  })

  it('reads the first error of a dual-stack AggregateError', () => {
    const f = classifyUpstreamError(new AggregateError([withCode('ECONNREFUSED'), withCode('ENETUNREACH')]))
    expect([f.kind, f.code]).toEqual(['connect', 'ECONNREFUSED'])
  })

  it.each([
    ['a thrown string', 'boom'],
    ['null', null],
    ['an error without code', new Error('x')],
    ['a numeric code', Object.assign(new Error('x'), { code: 42 })]
  ])('%s is a protocol failure with code UNKNOWN', (_name, err) => {
    expect(classifyUpstreamError(err)).toMatchObject({ kind: 'protocol', code: 'UNKNOWN', failover: false })
  })

  it.each([
    ['client abort', CLIENT_ABORT, null],
    ['body over the limit', BODY_TOO_LARGE, 'REQUEST_ENTITY_TOO_LARGE'],
    ['total timeout', TOTAL_TIMEOUT, 'UPSTREAM_TIMEOUT']
  ])('agnet\'s own stop (%s) comes back as the typed value it was raised with', (_name, failure, error) => {
    const f = classifyUpstreamError(new AttemptStopped(failure))
    expect(f).toBe(failure)
    expect(f.error).toBe(error)
    expect(f.failover).toBe(false)
  })
})
