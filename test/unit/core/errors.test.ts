// The error catalogue and its three renderers: every entry carries what an agent needs to act
// (action, do_not, docs_url), and each wire shape is written from the entry alone.
import { describe, expect, it } from 'vitest'
import { CATALOGUE, EdgeError, errorIdForStatus, type ErrorId } from '../../../src/core/errors.js'
import { controlPlaneErrorBody, controlPlaneErrorHeaders, edgeErrorBody, edgeErrorHeaders, openAiErrorBody, rawEdgeErrorResponse } from '../../../src/core/render-error.js'

const IDS = Object.keys(CATALOGUE) as ErrorId[]

describe('the catalogue', () => {
  it.each(IDS)('%s has a status, a message, an action, a do_not and a Blaxel docs page', (id) => {
    const e = CATALOGUE[id]
    expect(e.status).toBeGreaterThanOrEqual(400)
    expect(e.status).toBeLessThan(600)
    expect(e.message.length).toBeGreaterThan(10)
    expect(e.action.length).toBeGreaterThan(10)
    expect(e.doNot).toMatch(/^Do not /)
    expect(e.docsUrl).toMatch(/^https:\/\/docs\.blaxel\.ai\/[A-Za-z]/)
  })

  it('keeps Blaxel\'s statuses for its codes', () => {
    const rows: Array<[ErrorId, string, number, boolean]> = [
      ['ROUTE_NOT_FOUND', 'ROUTE_NOT_FOUND', 404, false],
      ['WORKLOAD_UNAVAILABLE', 'WORKLOAD_UNAVAILABLE', 404, true],
      ['MODEL_DISABLED', 'WORKLOAD_UNAVAILABLE', 404, false],
      ['USAGE_STORE_UNREACHABLE', 'WORKLOAD_UNAVAILABLE', 503, true],
      ['POLICY_VIOLATION', 'POLICY_VIOLATION', 403, false],
      ['TOKEN_LIMIT_EXHAUSTED', 'POLICY_VIOLATION', 429, false],
      ['HEADERS_TOO_LARGE', 'BAD_REQUEST', 431, false],
      ['UPSTREAM_REFUSED', 'UPSTREAM_UNREACHABLE', 502, true],
      ['UPSTREAM_CONNECT_TIMEOUT', 'UPSTREAM_TIMEOUT', 504, true]
    ]
    for (const [id, code, status, retryable] of rows) {
      const err = new EdgeError(id)
      expect([err.code, err.status, err.retryable], id).toEqual([code, status, retryable])
    }
  })

  it.each([
    [400, 'BAD_REQUEST'], [404, 'ROUTE_NOT_FOUND'], [405, 'METHOD_NOT_ALLOWED'], [406, 'BAD_REQUEST'],
    [413, 'REQUEST_ENTITY_TOO_LARGE'], [415, 'UNSUPPORTED_MEDIA_TYPE'], [431, 'HEADERS_TOO_LARGE'], [500, 'INTERNAL_ERROR'], [503, 'INTERNAL_ERROR']
  ])('a framework status %i answers with the %s entry', (status, id) => {
    expect(errorIdForStatus(status)).toBe(id)
  })
})

describe('renderers', () => {
  const err = new EdgeError('TOKEN_LIMIT_EXHAUSTED', 'The policy "cap" is exhausted.', { headers: { 'retry-after': '42' } })

  it('edge: Blaxel\'s body with action, do_not and docs_url, and the platform headers', () => {
    const body = edgeErrorBody(err, 'req-1', new Date('2026-11-25T10:00:00.123Z'))
    expect(body).toEqual({
      error: {
        code: 'POLICY_VIOLATION',
        message: 'The policy "cap" is exhausted.',
        status: 429,
        retryable: false,
        origin: 'platform',
        action: CATALOGUE.TOKEN_LIMIT_EXHAUSTED.action,
        do_not: CATALOGUE.TOKEN_LIMIT_EXHAUSTED.doNot,
        docs_url: CATALOGUE.TOKEN_LIMIT_EXHAUSTED.docsUrl,
        request_id: 'req-1',
        timestamp: '2026-11-25T10:00:00Z'
      }
    })
    expect(edgeErrorHeaders(err, 'req-1')).toEqual({
      'cache-control': 'no-store', 'x-blaxel-source': 'platform', 'x-blaxel-error-code': 'POLICY_VIOLATION', 'x-request-id': 'req-1', 'retry-after': '42'
    })
  })

  it.each([
    ['AUTHENTICATION_REQUIRED', 'Bearer'],
    ['AUTHENTICATION_FAILED', 'Bearer error="invalid_token"'],
    ['FORBIDDEN', undefined]
  ] as Array<[ErrorId, string | undefined]>)('a %s answer carries WWW-Authenticate %s on both planes', (id, challenge) => {
    expect(edgeErrorHeaders(new EdgeError(id), 'r')['www-authenticate']).toBe(challenge)
    expect(controlPlaneErrorHeaders(new EdgeError(id), 'r')['www-authenticate']).toBe(challenge)
  })

  it('raw: a whole HTTP/1.1 answer that closes the connection', () => {
    const text = rawEdgeErrorResponse(new EdgeError('HEADERS_TOO_LARGE'), 'r-2')
    const [head = '', body = ''] = text.split('\r\n\r\n')
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 431 Request Header Fields Too Large')
    expect(head).toContain('\r\nconnection: close')
    expect(head).toContain(`\r\ncontent-length: ${Buffer.byteLength(body)}`)
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'BAD_REQUEST', status: 431, docs_url: CATALOGUE.HEADERS_TOO_LARGE.docsUrl } })
  })

  it('control plane: {"code","error","message"} with the entry\'s own error name when it has one', () => {
    expect(controlPlaneErrorBody(new EdgeError('WORKSPACE_NOT_FOUND', 'Workspace "x" not found.'))).toEqual({ code: 404, error: 'Not Found', message: 'Workspace "x" not found.' })
    expect(controlPlaneErrorBody(new EdgeError('INVALID_API_VERSION'))).toEqual({ code: 400, error: 'invalid_api_version', message: 'Unknown API version.' })
  })

  it.each([
    ['BAD_REQUEST', 'invalid_request_error'],
    ['AUTHENTICATION_FAILED', 'authentication_error'],
    ['FORBIDDEN', 'permission_error'],
    ['WORKLOAD_NOT_FOUND', 'invalid_request_error'],
    ['TOKEN_LIMIT_EXHAUSTED', 'rate_limit_error'],
    ['UPSTREAM_TIMEOUT', 'server_error']
  ] as Array<[ErrorId, string]>)('OpenAI-compatible: %s is a %s', (id, type) => {
    const e = new EdgeError(id, 'm', { param: id === 'BAD_REQUEST' ? 'n' : undefined })
    expect(openAiErrorBody(e)).toEqual({ error: { message: 'm', type, param: id === 'BAD_REQUEST' ? 'n' : null, code: e.code.toLowerCase() } })
  })
})
