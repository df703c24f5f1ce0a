// The import rules hold on src/ and refuse a tree that breaks them: an upward import from the
// bottom layer, a stage importing another stage, the edge checks importing a plane, and a
// cycle. The same command `npm run lint` runs (dependency-cruiser with .dependency-cruiser.cjs).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const DEPCRUISE = `${REPO}node_modules/dependency-cruiser/bin/dependency-cruise.mjs`

async function cruise (dir: string): Promise<{ code: number; out: string }> {
  return await new Promise(resolve => {
    execFile(process.execPath, [DEPCRUISE, '--config', '.dependency-cruiser.cjs', '--output-type', 'err', dir], { cwd: REPO }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, out: stdout + stderr })
    })
  })
}

describe('import boundaries', () => {
  it('src/ has no upward import, no sideways import and no cycle', async () => {
    const r = await cruise('src')
    expect(r.out).not.toContain('error')
    expect(r.code).toBe(0)
  }, 120_000)

  it('a deliberate upward import, sideways import and cycle each fail', async () => {
    const r = await cruise('test/fixtures/layers/src')
    expect(r.code).not.toBe(0)
    expect(r.out).toContain('core-imports-nothing')
    expect(r.out).toMatch(/core-imports-nothing[^\n]*core\/bad-upward\.ts/)
    expect(r.out).toContain('stages-import-down-and-own-folder')
    expect(r.out).toMatch(/edge-below-planes[^\n]*edge\/reaches-plane\.ts/)
    expect(r.out).toMatch(/no-cycle[^\n]*usage\/(a|b)\.ts/)
  }, 120_000)
})
