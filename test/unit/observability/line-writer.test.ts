import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { LineWriter } from '../../../src/observability/line-writer.js'
import { createLogger } from '../../../src/observability/logger.js'

describe('LineWriter', () => {
  it('batches lines, writes them in order at 64 KiB or after a short delay, and flushes on demand', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'agnet-lw-')), 'out.log')
    const fd = openSync(path, 'w')
    const w = new LineWriter(fd)
    w.write('one\n')
    w.write('two\n')
    expect(readFileSync(path, 'utf8')).toBe('') // held back: one write per batch
    await vi.waitFor(() => { expect(readFileSync(path, 'utf8')).toBe('one\ntwo\n') }, { timeout: 5000, interval: 10 })
    const big = 'x'.repeat(1000) + '\n'
    for (let i = 0; i < 70; i++) w.write(big)
    expect(readFileSync(path, 'utf8').length).toBe(8 + 1001 * 66) // the 64 KiB threshold wrote the first 66
    w.write('last\n')
    w.flushSync()
    const all = readFileSync(path, 'utf8')
    expect(all.endsWith(big + 'last\n')).toBe(true)
    expect(all.length).toBe(8 + 1001 * 70 + 5)
    closeSync(fd)
  })
  it('carries pino lines untouched: every line of the output is one JSON object', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'agnet-lw-')), 'pino.log')
    const fd = openSync(path, 'w')
    const w = new LineWriter(fd)
    const logger = createLogger({ destination: w })
    logger.info({ port: 1 }, 'agnet listening')
    logger.warn('second')
    w.flushSync()
    const lines = readFileSync(path, 'utf8').trim().split('\n')
    expect(lines.map(l => (JSON.parse(l) as { msg: string }).msg)).toEqual(['agnet listening', 'second'])
    closeSync(fd)
  })
})
