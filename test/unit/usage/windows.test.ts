import { describe, expect, it } from 'vitest'
import { windowEnd, windowStart, WindowClock } from '../../../src/usage/windows.js'
import type { Granularity } from '../../../src/core/usage.js'

const t = (iso: string): number => Date.parse(iso)

describe('fixed UTC windows', () => {
  const cases: Array<[Granularity, number, string, string, string]> = [
    ['minute', 1, '2026-11-25T10:00:59.999Z', '2026-11-25T10:00:00Z', '2026-11-25T10:01:00Z'],
    ['minute', 1, '2026-11-25T10:01:00.000Z', '2026-11-25T10:01:00Z', '2026-11-25T10:02:00Z'],
    ['minute', 5, '2026-11-25T10:07:30Z', '2026-11-25T10:05:00Z', '2026-11-25T10:10:00Z'],
    ['hour', 1, '2026-11-25T10:59:59Z', '2026-11-25T10:00:00Z', '2026-11-25T11:00:00Z'],
    ['hour', 6, '2026-11-25T13:00:00Z', '2026-11-25T12:00:00Z', '2026-11-25T18:00:00Z'],
    ['day', 1, '2026-11-25T23:59:59Z', '2026-11-25T00:00:00Z', '2026-11-26T00:00:00Z'],
    ['month', 1, '2026-02-28T23:59:59Z', '2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z'],
    ['month', 1, '2028-02-29T12:00:00Z', '2028-02-01T00:00:00Z', '2028-03-01T00:00:00Z'],
    ['month', 1, '2026-12-31T23:59:59Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    // Month steps count from January 1970: 3-month windows are calendar quarters.
    ['month', 3, '2026-11-25T00:00:00Z', '2026-10-01T00:00:00Z', '2027-01-01T00:00:00Z'],
    ['month', 12, '2026-06-01T00:00:00Z', '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z']
  ]
  for (const [g, step, now, start, end] of cases) {
    it(`${step} ${g} at ${now}`, () => {
      const s = windowStart(g, step, t(now))
      expect(new Date(s).toISOString()).toBe(new Date(t(start)).toISOString())
      expect(new Date(windowEnd(g, step, s)).toISOString()).toBe(new Date(t(end)).toISOString())
    })
  }

  it('seconds to reset round up and are at least 1', () => {
    const secondsToReset = (g: Granularity, step: number, now: number): number => new WindowClock([{ granularity: g, step }]).at(now).secondsToReset(0, now)
    expect(secondsToReset('minute', 1, t('2026-11-25T10:00:00.000Z'))).toBe(60)
    expect(secondsToReset('minute', 1, t('2026-11-25T10:00:59.001Z'))).toBe(1)
    expect(secondsToReset('minute', 1, t('2026-11-25T10:00:30.500Z'))).toBe(30)
    expect(secondsToReset('day', 1, t('2026-11-25T23:00:00Z'))).toBe(3600)
    expect(secondsToReset('month', 1, t('2026-02-28T23:59:59.500Z'))).toBe(1)
  })
})

describe('WindowClock', () => {
  const shapes = [{ granularity: 'minute', step: 5 }, { granularity: 'month', step: 1 }, { granularity: 'hour', step: 1 }] as const
  const expectMatches = (clock: WindowClock, now: number): void => {
    clock.at(now)
    shapes.forEach((w, j) => {
      const s = windowStart(w.granularity, w.step, now)
      expect(clock.starts[j]).toBe(s)
      expect(clock.ends[j]).toBe(windowEnd(w.granularity, w.step, s))
      expect(clock.secondsToReset(j, now)).toBe(Math.max(1, Math.ceil((windowEnd(w.granularity, w.step, s) - now) / 1000)))
    })
  }

  it('holds the windows of the moment asked, across every boundary and when the clock goes back', () => {
    const clock = new WindowClock(shapes)
    const t0 = Date.UTC(2026, 0, 31, 23, 58, 59, 500)
    // forward through a 5-minute, an hour, a day and a month boundary, a second at a time
    for (let t = t0; t < t0 + 10 * 60_000; t += 1000) expectMatches(clock, t)
    // the clock goes back (another instance's skew, a test's injected clock)
    expectMatches(clock, t0 - 3_600_000)
    expectMatches(clock, t0)
  })

  it('recomputes only when a window ended: the arrays are reused', () => {
    const clock = new WindowClock(shapes)
    const starts = clock.at(Date.UTC(2026, 5, 1, 12, 0, 1)).starts
    const before = [...starts]
    expect(clock.at(Date.UTC(2026, 5, 1, 12, 4, 59)).starts).toBe(starts)
    expect([...starts]).toEqual(before)
    clock.at(Date.UTC(2026, 5, 1, 12, 5, 0))
    expect(starts[0]).toBe(Date.UTC(2026, 5, 1, 12, 5, 0))
  })
})
