// The fault API as a client sees it: `agnet chaos` and `agnet loadtest --scenario` change
// faults only through HTTP, so both work against a gateway in a container or another host.
import { request } from 'undici'
import type { FaultBodyInput } from '../core/faults.js'
import type { FaultView } from './registry.js'

export class FaultApiError extends Error {
  constructor (readonly status: number, message: string) { super(message) }
}

export class FaultClient {
  constructor (private readonly apiUrl: string, private readonly apiKey: string | null) {}

  private async call (method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (this.apiKey !== null && this.apiKey !== '') headers.authorization = `Bearer ${this.apiKey}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await request(`${this.apiUrl}/network/faults${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000 })
    const text = await res.body.text()
    let json: unknown = null
    try { json = text === '' ? null : JSON.parse(text) } catch {}
    if (res.statusCode >= 400) {
      const message = typeof json === 'object' && json !== null && 'message' in json ? json.message : undefined
      throw new FaultApiError(res.statusCode, `${res.statusCode} ${typeof message === 'string' ? message : text.slice(0, 200)}`)
    }
    return json
  }

  async list (): Promise<FaultView[]> {
    const json = await this.call('GET', '')
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- parsed JSON from the gateway's fault API, which answers a list as { faults: FaultView[] } (control-plane/faults.ts)
    return (json as { faults: FaultView[] }).faults
  }

  async put (name: string, body: FaultBodyInput): Promise<FaultView> {
    const json = await this.call('PUT', `/${encodeURIComponent(name)}`, body)
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- parsed JSON from the gateway's fault API, which answers a put with the FaultView it stored (control-plane/faults.ts)
    return json as FaultView
  }

  async remove (name: string): Promise<void> {
    await this.call('DELETE', `/${encodeURIComponent(name)}`)
  }

  /** Removes the run-time faults named, or all of them when `names` is null. */
  async clear (names: readonly string[] | null = null): Promise<string[]> {
    const q = names === null ? '' : `?names=${encodeURIComponent(names.join(','))}`
    const json = await this.call('DELETE', q)
    // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- parsed JSON from the gateway's fault API, which answers a clear as { deleted: string[] } (control-plane/faults.ts)
    return (json as { deleted: string[] }).deleted
  }
}
