// The request-target parser, case by case: what is refused and what is forwarded as is.
import { describe, expect, it } from 'vitest'
import { parseRunTarget, type TargetProblem } from '../../../src/run-plane/target.js'

describe('parseRunTarget refusals', () => {
  const cases: Array<[string, TargetProblem]> = [
    ['/acc/models/rec//evil.test/v1/x', 'double-slash'],
    ['/acc/models/rec//', 'double-slash'],
    ['/acc/models/rec//?q=1', 'double-slash'],
    ['/acc/models/rec/a%252e%252e/x', 'double-encoded'],
    ['/acc/models/rec/a%252E', 'double-encoded'],
    ['/acc/models/rec/a%252f', 'double-encoded'],
    ['/acc/models/rec/a%255C', 'double-encoded'],
    ['/acc/models/rec/a%25252F', 'double-encoded'],
    ['/acc/models/rec/x?next=%252e%252e', 'double-encoded'],
    ['/acc/models/rec/x?next=%255c', 'double-encoded'],
    ['/acc/models/rec/a%00', 'encoded-control'],
    ['/acc/models/rec/a%0D', 'encoded-control'],
    ['/acc/models/rec/a%0a', 'encoded-control'],
    ['/acc/models/rec/a%250a', 'encoded-control'],
    ['/acc/models/rec/x?h=%0d%0aX:1', 'encoded-control'],
    ['/acc/models/rec/x?h=%00', 'encoded-control'],
    ['/acc/models/rec/x?h=%2500', 'encoded-control'],
    ['/acc/models/rec/a%2e%2e', 'encoded-separator'],
    ['/acc/models/rec/a%2F', 'encoded-separator'],
    ['/acc/models/rec/a%5c', 'encoded-separator'],
    ['/acc/models/rec/../x', 'dot-segment'],
    ['/acc/models/rec/a\\b', 'bad-character'],
    ['http://x/acc/models/rec', 'absolute-form']
  ]
  it.each(cases)('%s → %s', (url, problem) => {
    expect(parseRunTarget(url)).toBe(problem)
  })

  it('the /run alias is checked the same way', () => {
    expect(parseRunTarget('/run/acc/models/rec//evil', 4)).toBe('double-slash')
  })
})

describe('parseRunTarget accepts', () => {
  const cases: Array<[string, string]> = [
    ['/acc/models/rec', ''],
    ['/acc/models/rec/', '/'],
    ['/acc/models/rec/v1//chat', '/v1//chat'],
    ['/acc/models/rec/a%2541b', '/a%2541b'],
    ['/acc/models/rec/a%25', '/a%25'],
    ['/acc/models/rec/a%2', '/a%2'],
    ['/acc/models/rec/x?next=%2Fa%2e&p=%25&q=%5C', '/x?next=%2Fa%2e&p=%25&q=%5C'],
    ['/acc/models/rec?alt=sse', '?alt=sse']
  ]
  it.each(cases)('%s (rest %j)', (url, rest) => {
    expect(parseRunTarget(url)).toEqual({ workspace: 'acc', model: 'rec', rest })
  })
})
