import { describe, expect, it } from 'vitest'
import { formatMs } from '../../../src/observability/format.js'

describe('formatMs', () => {
  it.each([
    [0, '0.000'], [-1, '0.000'], [Number.NaN, '0.000'], [0.0004, '0.000'], [0.0005, '0.001'], [0.012, '0.012'],
    [1, '1.000'], [1.5, '1.500'], [12.3456, '12.346'], [999.9996, '1000.000'], [123456.789, '123456.789']
  ])('%s ms → %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text)
    if (ms > 0) expect(formatMs(ms)).toBe(ms.toFixed(3))
  })
})
