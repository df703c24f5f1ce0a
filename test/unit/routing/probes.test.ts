// Active health probes against a real mock: verdicts, restart on reload, stop on close.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Pool } from 'undici'
import { HealthProbes } from '../../../src/routing/probes.js'
import type { RtDeployment } from '../../../src/core/runtime.js'
import { startTunableMock, type TunableMock } from '../../helpers/tunable-mock.js'
import { startMockServer, type MockServer } from '../../../src/mock/index.js'

let up: MockServer
let pool: Pool
let dead: TunableMock

beforeAll(async () => {
  up = await startMockServer({ region: 'x' })
  pool = new Pool(up.url)
  dead = await startTunableMock('y')
  await dead.kill()
})
afterAll(async () => {
  await pool.close()
  await up.close()
})

function dep (id: string, url: string, path: string, dispatcher: Pool, intervalMs = 30): RtDeployment {
  return { id, url, basePath: '', setHeaders: ['authorization', 'Bearer provider'], dispatcher, healthCheck: { path, intervalMs } } as unknown as RtDeployment
}

describe('health probes', () => {
  it('report up and down, follow the config and stop', async () => {
    const verdicts = new Map<string, Array<boolean>>()
    const probes = new HealthProbes((d, ok) => { verdicts.set(d.id, [...(verdicts.get(d.id) ?? []), ok]) }, null)
    const deadPool = new Pool(dead.url)
    probes.sync([dep('ok', up.url, '/__health', pool), dep('bad', dead.url, '/__health', deadPool), dep('404', up.url, '/__nope', pool)])
    expect(probes.size).toBe(3)
    await vi.waitFor(() => {
      expect(verdicts.get('ok')?.[0]).toBe(true)
      expect(verdicts.get('bad')?.[0]).toBe(false)
      expect(verdicts.get('404')?.[0]).toBe(false)
    }, { timeout: 5000, interval: 20 })
    // A reload that drops two probes and changes the third's path restarts only what changed.
    probes.sync([dep('ok', up.url, '/__stats', pool)])
    expect(probes.size).toBe(1)
    probes.stop()
    expect(probes.size).toBe(0)
    const seen = verdicts.get('ok')?.length ?? 0
    // Stopped probes report nothing more (a few intervals later).
    await new Promise(resolve => { setTimeout(resolve, 120) })
    expect(verdicts.get('ok')?.length ?? 0).toBe(seen)
    await deadPool.destroy()
  })
})
