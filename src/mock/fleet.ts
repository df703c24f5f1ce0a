// A fleet of mock upstreams: one server per simulated region, so routing and
// failover across regions can be exercised on one machine.
import { type MockOptions, type MockServer, startMockServer } from './server.js'

export interface MockFleet {
  servers: Map<string, MockServer>
  /** region → base URL */
  urls: Map<string, string>
  close(): Promise<void>
}

export async function startMockFleet (regions: string[], opts: Partial<MockOptions> = {}): Promise<MockFleet> {
  const unique = [...new Set(regions)]
  const results = await Promise.allSettled(
    unique.map((region) => startMockServer({ ...opts, region, name: opts.name ?? `mock-${region}` }))
  )
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) {
    // Do not leak the servers that did start when one region fails.
    await Promise.all(started.map((s) => s.close()))
    throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason))
  }
  const servers = new Map(started.map((s) => [s.region, s] as const))
  const urls = new Map(started.map((s) => [s.region, s.url] as const))
  return {
    servers,
    urls,
    close: async () => {
      await Promise.all(started.map((s) => s.close()))
    }
  }
}
