import { describe, expect, it } from 'vitest'
import { coldReservation, learn, learnedReservation, type Estimate, type Reservation } from '../../../src/usage/estimate.js'

const ask = (bytes: number, hint: number): Reservation => ({ bytes, hint, reserve: { input: 0, output: 0, total: 0 } })
const est = (over: Partial<Estimate>): Estimate => ({ samples: 1, ratio: 0, input: 0, output: 0, ...over })

describe('reservations', () => {
  const cold: Array<[string, number, number, number, [number, number, number]]> = [
    ['the max_tokens of the request', 55, 24, 1024, [14, 24, 38]],
    ['the default when the request names none', 55, -1, 1024, [14, 1024, 1038]],
    ['a zero default', 8, -1, 0, [2, 0, 2]],
    ['no body', 0, 10, 1024, [0, 10, 10]]
  ]
  it.each(cold)('cold: %s', (_n, bytes, hint, fallback, expected) => {
    const r = ask(bytes, hint)
    coldReservation(r, fallback)
    expect([r.reserve.input, r.reserve.output, r.reserve.total]).toEqual(expected)
  })

  const learned: Array<[string, Estimate, number, number, [number, number, number]]> = [
    ['input scaled by the body size, mean output', est({ ratio: 3 / 55, input: 3, output: 16 }), 55, -1, [3, 16, 19]],
    ['a larger body reserves more input', est({ ratio: 0.1, input: 3, output: 16 }), 200, -1, [20, 16, 36]],
    ['the mean input when the body size is unknown', est({ ratio: 0.1, input: 3.2, output: 16 }), 0, -1, [4, 16, 20]],
    ['never more output than the request asks for', est({ ratio: 0.1, input: 3, output: 16 }), 30, 5, [3, 5, 8]],
    ['a bound above the mean does not raise it', est({ ratio: 0.1, input: 3, output: 16 }), 30, 500, [3, 16, 19]],
    ['a mean a hair above a whole number is that number', est({ ratio: 0.1, input: 3, output: 16.0000000001 }), 30, -1, [3, 16, 19]]
  ]
  it.each(learned)('learned: %s', (_n, e, bytes, hint, expected) => {
    const r = ask(bytes, hint)
    learnedReservation(r, e)
    expect([r.reserve.input, r.reserve.output, r.reserve.total]).toEqual(expected)
  })
})

describe('learn', () => {
  it('takes the first sample as it is, then moves a quarter of the way per sample', () => {
    const e: Estimate = { samples: 0, ratio: 0, input: 0, output: 0 }
    learn(e, 1, 100, 10, 40)
    expect(e).toEqual({ samples: 1, ratio: 0.1, input: 10, output: 40 })
    learn(e, 1, 100, 30, 0)
    expect(e).toEqual({ samples: 2, ratio: 0.15, input: 15, output: 30 })
  })

  it('several samples at once move by 1 - 0.75^count towards their mean', () => {
    const e: Estimate = { samples: 4, ratio: 0.1, input: 10, output: 10 }
    learn(e, 2, 400, 60, 100)
    const w = 1 - 0.75 ** 2
    expect(e.samples).toBe(6)
    expect(e.ratio).toBeCloseTo(0.1 + w * (0.15 - 0.1), 12)
    expect(e.input).toBeCloseTo(10 + w * (30 - 10), 12)
    expect(e.output).toBeCloseTo(10 + w * (50 - 10), 12)
  })

  it('a sample without a body keeps the ratio', () => {
    const e: Estimate = { samples: 1, ratio: 0.2, input: 10, output: 10 }
    learn(e, 1, 0, 10, 10)
    expect(e.ratio).toBe(0.2)
  })

  it('nothing to learn from changes nothing', () => {
    const e: Estimate = { samples: 0, ratio: 0, input: 0, output: 0 }
    learn(e, 0, 0, 0, 0)
    expect(e.samples).toBe(0)
  })
})
