// Which header carries the credential: a table of raw header lists → token or problem.
import { describe, expect, it } from 'vitest'
import { CarrierProblem, MAX_TOKEN_LENGTH, isB64Token, looksLikeJwt, readCredential } from '../../../src/auth/carriers.js'

const cases: Array<[string, string[], string | CarrierProblem]> = [
  ['nothing', ['Host', 'x'], CarrierProblem.None],
  ['X-Blaxel-Authorization', ['X-Blaxel-Authorization', 'Bearer k1'], 'k1'],
  ['Authorization', ['authorization', 'Bearer k1'], 'k1'],
  ['X-Blaxel-Authorization wins over a dummy Authorization', ['Authorization', 'Bearer replaced', 'X-Blaxel-Authorization', 'Bearer real'], 'real'],
  ['X-Blaxel-Authorization wins over a real but different Authorization', ['authorization', 'Bearer other', 'x-blaxel-authorization', 'Bearer real'], 'real'],
  ['scheme is case-insensitive', ['authorization', 'bEaReR k1'], 'k1'],
  ['several spaces and a trailing space', ['authorization', 'Bearer   k1 '], 'k1'],
  ['padding = allowed', ['authorization', 'Bearer abc=='], 'abc=='],
  ['x-api-key is never a Blaxel credential', ['x-api-key', 'k1'], CarrierProblem.None],
  ['x-goog-api-key is never a Blaxel credential', ['x-goog-api-key', 'k1', 'api-key', 'k1'], CarrierProblem.None],
  ['legacy X-Blaxel-Api-Key', ['X-Blaxel-Api-Key', 'k1'], 'k1'],
  ['Authorization wins over legacy', ['X-Blaxel-Api-Key', 'k2', 'Authorization', 'Bearer k1'], 'k1'],
  ['empty X-Blaxel-Authorization falls through to Authorization', ['x-blaxel-authorization', '', 'authorization', 'Bearer k1'], 'k1'],
  ['Basic scheme', ['authorization', 'Basic dXNlcjpwYXNz'], CarrierProblem.Malformed],
  ['Bearer without token (an unset shell variable)', ['authorization', 'Bearer'], CarrierProblem.Empty],
  ['X-Blaxel-Authorization: bearer without token', ['x-blaxel-authorization', 'bearer'], CarrierProblem.Empty],
  ['a scheme shorter than Bearer', ['authorization', 'Bear'], CarrierProblem.Malformed],
  ['another six-letter scheme', ['authorization', 'Bearex'], CarrierProblem.Malformed],
  // Characters are checked on the slow path (isB64Token): a hit is an exact match anyway.
  ['Bearer with two tokens (refused later by isB64Token)', ['authorization', 'Bearer a b'], 'a b'],
  ['comma-joined values (refused later by isB64Token)', ['x-blaxel-authorization', 'Bearer a, Bearer b'], 'a, Bearer b'],
  ['Bearer followed by spaces only', ['authorization', 'Bearer    '], CarrierProblem.Empty],
  ['scheme with a tab', ['authorization', 'Bearer\tk1'], 'k1'],
  ['scheme glued to the token', ['authorization', 'Bearerk1'], CarrierProblem.Malformed],
  ['repeated X-Blaxel-Authorization (same value)', ['x-blaxel-authorization', 'Bearer a', 'X-Blaxel-Authorization', 'Bearer a'], CarrierProblem.Repeated],
  ['repeated X-Blaxel-Authorization (conflicting)', ['x-blaxel-authorization', 'Bearer a', 'x-blaxel-authorization', 'Bearer b'], CarrierProblem.Repeated],
  ['repeated Authorization without X-Blaxel', ['authorization', 'Bearer a', 'Authorization', 'Bearer b'], CarrierProblem.Repeated],
  ['repeated Authorization beside X-Blaxel is ignored', ['authorization', 'Bearer replaced', 'authorization', 'Bearer replaced', 'x-blaxel-authorization', 'Bearer real'], 'real'],
  ['oversized token', ['authorization', `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 100)}`], CarrierProblem.Malformed]
]

describe('readCredential', () => {
  it.each(cases)('%s', (_name, raw, expected) => {
    expect(readCredential(raw)).toBe(expected)
  })
})

describe('isB64Token (RFC 6750)', () => {
  it.each([
    ['agnet_abc-DEF.123~+/', true], ['abc==', true], ['a b', false], ['a, Bearer b', false], ['a"b', false], ['a=b', false], ['é', false], ['', false]
  ])('%s → %s', (t, v) => { expect(isB64Token(t)).toBe(v) })
})

describe('looksLikeJwt', () => {
  it.each([
    ['a.b.c', true], ['eyJ.eyJ.sig', true], ['agnet_abc', false], ['a.b', false], ['a.b.c.d', false], ['.b.c', false], ['a..c', false], ['a.b.', false]
  ])('%s → %s', (t, v) => { expect(looksLikeJwt(t)).toBe(v) })
})
