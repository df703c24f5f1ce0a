// The embedded default config as `npm start` serves it: the demo key reaches demo and not
// "other"; the demo service account gets tokens by client_credentials; generated credentials
// are printed, given ones are used.
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serve, type Served } from '../../src/server.js'
import { createLogger } from '../../src/observability/logger.js'

let served: Served
const env: NodeJS.ProcessEnv = { AGNET_DEMO_KEY: 'agnet_demo_key_for_tests_0123456789', AGNET_DEMO_CLIENT_ID: 'demo-client', AGNET_DEMO_CLIENT_SECRET: 'demo-secret-0123456789' }
let base = ''

beforeAll(async () => {
  const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
  served = await serve({ port: 0, host: '127.0.0.1', env, banner: false, watch: false, handleSignals: false, logger })
  base = `http://127.0.0.1:${served.port}`
})
afterAll(async () => { await served.close() })

const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })

async function post (path: string, token: string): Promise<Response> {
  return await fetch(`${base}${path}`, { method: 'POST', headers: { 'x-blaxel-authorization': `Bearer ${token}`, 'content-type': 'application/json' }, body: chat })
}

describe('the embedded default', () => {
  it('the demo key reaches the demo workspace and gets 403 on "other", like an unknown workspace', async () => {
    expect((await post('/demo/models/gpt-4o-mini/v1/chat/completions', env.AGNET_DEMO_KEY as string)).status).toBe(200)
    const other = await post('/other/models/gpt-4o-mini/v1/chat/completions', env.AGNET_DEMO_KEY as string)
    expect(other.status).toBe(403)
    expect(other.headers.get('x-blaxel-error-code')).toBe('FORBIDDEN')
    const none = await fetch(`${base}/other/models/gpt-4o-mini/v1/chat/completions`, { method: 'POST', body: chat })
    expect(none.status).toBe(401)
  })

  it('the demo service account gets a token with client_credentials (BL_CLIENT_CREDENTIALS form), valid on demo only', async () => {
    const creds = Buffer.from(`${env.AGNET_DEMO_CLIENT_ID as string}:${env.AGNET_DEMO_CLIENT_SECRET as string}`).toString('base64')
    const r = await fetch(`${base}/v0/oauth/token`, { method: 'POST', headers: { authorization: `Basic ${creds}`, 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' })
    expect(r.status).toBe(200)
    const body = await r.json() as { access_token: string; refresh_token: string; expires_in: number }
    expect(body.expires_in).toBe(7200)
    expect((await post('/demo/models/claude-haiku/v1/messages', body.access_token)).status).toBeLessThan(300)
    expect((await post('/other/models/gpt-4o-mini/v1/chat/completions', body.access_token)).status).toBe(403)
  })
})

describe('generated demo credentials', () => {
  it('are generated when unset and printed in the banner', async () => {
    const env2: NodeJS.ProcessEnv = {}
    const logger = createLogger({ level: 'warn', destination: new Writable({ write (_c, _e, cb) { cb() } }) })
    const chunks: string[] = []
    const write = process.stdout.write.bind(process.stdout)
    process.stdout.write = ((c: string | Uint8Array) => { chunks.push(String(c)); return true }) as typeof process.stdout.write
    let s: Served
    try {
      s = await serve({ port: 0, host: '127.0.0.1', env: env2, watch: false, handleSignals: false, logger })
    } finally {
      process.stdout.write = write
    }
    try {
      const banner = chunks.join('')
      expect(env2.AGNET_DEMO_CLIENT_ID).toMatch(/^demo-sa-[0-9a-f]{12}$/)
      expect(env2.AGNET_DEMO_CLIENT_SECRET).toMatch(/^agnet_cs_/)
      expect(banner).toContain(env2.AGNET_DEMO_CLIENT_ID as string)
      expect(banner).toContain(env2.AGNET_DEMO_CLIENT_SECRET as string)
      expect(banner).toContain('BL_CLIENT_CREDENTIALS=')
      const r = await fetch(`http://127.0.0.1:${s.port}/v0/oauth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'client_credentials', client_id: env2.AGNET_DEMO_CLIENT_ID, client_secret: env2.AGNET_DEMO_CLIENT_SECRET }) })
      expect(r.status).toBe(200)
    } finally {
      await s.close()
    }
  })
})
