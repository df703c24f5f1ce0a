// The request target is the first thing a request meets and everything downstream derives from
// it: the workspace, the model, and the rest forwarded upstream. Tricks must fail here.
import { describe, expect, it } from 'vitest'
import { isRunPlanePath, parseRunTarget, targetError, type TargetProblem } from '../../../src/run-plane/target.js'
import { upstreamPath } from '../../../src/core/upstream-path.js'

describe('parseRunTarget', () => {
  it.each([
    ['/acme/models/gpt', 0, { workspace: 'acme', model: 'gpt', rest: '' }],
    ['/acme/models/gpt/', 0, { workspace: 'acme', model: 'gpt', rest: '/' }],
    ['/acme/models/gpt/v1/chat/completions', 0, { workspace: 'acme', model: 'gpt', rest: '/v1/chat/completions' }],
    ['/acme/models/gpt?x=1', 0, { workspace: 'acme', model: 'gpt', rest: '?x=1' }],
    ['/acme/models/gpt/v1/models?a=%2F..%2F', 0, { workspace: 'acme', model: 'gpt', rest: '/v1/models?a=%2F..%2F' }],
    ['/acme/models/gpt-4o-mini/x%20y', 0, { workspace: 'acme', model: 'gpt-4o-mini', rest: '/x%20y' }],
    ['/run/acme/models/gpt/v1', 4, { workspace: 'acme', model: 'gpt', rest: '/v1' }],
    ['/a/models/' + 'm'.repeat(49), 0, { workspace: 'a', model: 'm'.repeat(49), rest: '' }]
  ])('%s (offset %i) → %j', (url, offset, want) => {
    expect(parseRunTarget(url, offset)).toEqual(want)
  })

  it.each([
    ['http://evil.example/acme/models/gpt', 'absolute-form'],
    ['*', 'absolute-form'],
    ['/acme/models/gpt/a\\b', 'bad-character'],
    ['/acme/models/gpt/a\x01b', 'bad-character'],
    ['/acme/models/gpt/a b', 'bad-character'],
    ['/acme/models/gpt/x?q=\x7f', 'bad-character'],
    ['/acme/models/gpt/%2e%2e/secret', 'encoded-separator'],
    ['/acme/models/gpt/%2E%2E/secret', 'encoded-separator'],
    ['/acme/models/gpt/a%2fb', 'encoded-separator'],
    ['/acme/models/gpt/a%5Cb', 'encoded-separator'],
    ['/acme/models/gpt/a%00', 'encoded-control'],
    ['/acme/models/gpt/../other', 'dot-segment'],
    ['/acme/models/gpt/./x', 'dot-segment'],
    ['/acme/models/gpt/..', 'dot-segment'],
    ['/ACME/models/gpt', 'bad-name'],
    ['/acme/models/GPT', 'bad-name'],
    ['/acme/models/-gpt', 'bad-name'],
    ['/acme/models/' + 'm'.repeat(50), 'bad-name'],
    ['/acme/models/', 'bad-name'],
    ['/acme/models', 'not-a-model-route'],
    ['/acme/agents/x', 'not-a-model-route'],
    ['/acme%2fmodels/gpt/x', 'encoded-separator'],
    ['/acme', 'not-a-model-route'],
    ['/acme/modelsx/gpt', 'not-a-model-route']
  ] as Array<[string, TargetProblem]>)('%j → %s', (url, problem) => {
    expect(parseRunTarget(url, 0)).toBe(problem)
  })

  it.each([
    ['absolute-form', 'BAD_REQUEST', 400],
    ['bad-character', 'BAD_REQUEST', 400],
    ['encoded-separator', 'BAD_REQUEST', 400],
    ['dot-segment', 'BAD_REQUEST', 400],
    ['bad-name', 'BAD_REQUEST', 400],
    ['not-a-model-route', 'ROUTE_NOT_FOUND', 404]
  ] as Array<[TargetProblem, string, number]>)('%s is answered %s %i', (problem, code, status) => {
    const err = targetError(problem)
    expect([err.code, err.status]).toEqual([code, status])
  })
})

describe('isRunPlanePath', () => {
  it.each([
    ['/acme/models/gpt', 0, true],
    ['/acme/models', 0, true],
    ['/acme/models?x', 0, true],
    ['/run/acme/models/gpt', 4, true],
    ['/acme/modelsx', 0, false],
    ['/acme', 0, false],
    ['/v0/models', 0, true],
    ['/healthz', 0, false]
  ])('%s (offset %i) → %s', (url, offset, want) => {
    expect(isRunPlanePath(url, offset)).toBe(want)
  })
})

describe('upstreamPath', () => {
  it.each([
    ['', '', '/'],
    ['', '/v1/models', '/v1/models'],
    ['', '?a=1', '/?a=1'],
    ['/base', '', '/base'],
    ['/base', '/v1/x', '/base/v1/x'],
    ['/base', '?a=1', '/base?a=1']
  ])('base %j + rest %j → %j', (base, rest, want) => {
    expect(upstreamPath(base, rest)).toBe(want)
  })
})
