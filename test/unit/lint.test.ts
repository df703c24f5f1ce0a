// The import rules hold on src/ and refuse a tree that breaks them: an upward import from the
// bottom layer, a stage importing another stage, the edge checks importing a plane, and a
// cycle. The same command `npm run lint` runs (dependency-cruiser with .dependency-cruiser.cjs).
import { execFile } from 'node:child_process'
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
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

describe('casts', () => {
  it('every cast kept in src/ says why, next to it', () => {
    const files = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' }).filter(f => f.endsWith('.ts'))
    const unexplained: string[] = []
    let kept = 0
    for (const f of files) {
      readFileSync(join(REPO, 'src', f), 'utf8').split('\n').forEach((line, i) => {
        if (!line.includes('eslint-disable')) return
        kept++
        // `-- ` and at least a few words of reason.
        if (!/ -- \S+(\s+\S+){2,}/.test(line)) unexplained.push(`src/${f}:${i + 1}`)
      })
    }
    expect(unexplained).toEqual([])
    // A handful at trust boundaries, not a habit: raise this only with a reason in review.
    expect(kept).toBeLessThanOrEqual(12)
  })
})
