// The real curl binary, exactly as Blaxel's docs show a model call: x-Blaxel-authorization and
// x-Blaxel-workspace headers and --data-raw '{"inputs":"..."}' to the base endpoint, plus the
// docs' sub-endpoint form (/v1/chat/completions) and a streamed call with -N.
import { spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { SDK_CONFIG, USER_KEY } from './sdk-config.js'

interface CurlResult { code: number; stdout: string; stderr: string }

async function curl (args: string[]): Promise<CurlResult> {
  return await new Promise((resolve, reject) => {
    const p = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    p.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    p.on('error', reject)
    p.on('close', code => { resolve({ code: code ?? -1, stdout, stderr }) })
  })
}

/** curl -i output → status, lower-cased headers and body. */
function parseResponse (raw: string): { status: number; headers: Record<string, string>; body: string } {
  const cut = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, cut).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const i = line.indexOf(':')
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim()
  }
  return { status: Number(head[0]?.split(' ')[1]), headers, body: raw.slice(cut + 4) }
}

describe('curl as in Blaxel\'s docs', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(SDK_CONFIG) })
  afterAll(async () => { await gw.close() })

  it('POSTs {"inputs": ...} to the base endpoint', async () => {
    // Models/Query-a-model: no Content-Type, so curl sends application/x-www-form-urlencoded;
    // the body must still reach the model byte for byte.
    const r = await curl([
      '-sS', '-i', `${gw.url}/demo/models/my-model`,
      '-H', 'accept: application/json, text/plain, */*',
      '-H', `x-Blaxel-authorization: Bearer ${USER_KEY}`,
      '-H', 'x-Blaxel-workspace: demo',
      '--data-raw', '{"inputs":"Enter your input here."}'
    ])
    expect(r.code).toBe(0)
    const res = parseResponse(r.stdout)
    expect(res.status).toBe(200)
    expect(res.headers['x-agnet-region']).toBe('us-was-1')
    const body = JSON.parse(res.body) as { generated_text: string; usage: { prompt_tokens: number } }
    expect(body.generated_text.length).toBeGreaterThan(0)
    expect(body.usage.prompt_tokens).toBe(4)
  })

  it('calls a provider sub-endpoint on the model URL', async () => {
    const r = await curl([
      '-sS', '-i', `${gw.url}/demo/models/gpt-4o-mini/v1/chat/completions`,
      '-H', `x-Blaxel-authorization: Bearer ${USER_KEY}`,
      '-H', 'x-Blaxel-workspace: demo',
      '-H', 'Content-Type: application/json',
      '--data-raw', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello!"}]}'
    ])
    const res = parseResponse(r.stdout)
    expect(res.status).toBe(200)
    expect((JSON.parse(res.body) as { object: string }).object).toBe('chat.completion')
  })

  it('streams server-sent events with -N', async () => {
    const r = await curl([
      '-sS', '-N', `${gw.url}/demo/models/gpt-4o-mini/v1/chat/completions`,
      '-H', `x-Blaxel-authorization: Bearer ${USER_KEY}`,
      '-H', 'x-Blaxel-workspace: demo',
      '-H', 'Content-Type: application/json',
      '--data-raw', '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'
    ])
    const events = r.stdout.split('\n\n').filter(e => e.startsWith('data: '))
    expect(events.length).toBeGreaterThan(2)
    expect(events.at(-1)).toBe('data: [DONE]')
  })

  it('gets the edge error shape without a credential, and the control-plane shape on /v0', async () => {
    const run = parseResponse((await curl(['-sS', '-i', '-X', 'POST', `${gw.url}/demo/models/my-model`, '--data-raw', '{"inputs":"x"}'])).stdout)
    expect(run.status).toBe(401)
    expect(run.headers['x-blaxel-source']).toBe('platform')
    expect(run.headers['x-blaxel-error-code']).toBe('AUTHENTICATION_REQUIRED')
    expect(JSON.parse(run.body)).toMatchObject({ error: { code: 'AUTHENTICATION_REQUIRED', status: 401, origin: 'platform' } })
    const cp = parseResponse((await curl(['-sS', '-i', `${gw.url}/v0/models/my-model`, '-H', 'x-Blaxel-workspace: demo'])).stdout)
    expect(cp.status).toBe(401)
    expect(JSON.parse(cp.body)).toMatchObject({ code: 401, error: 'Unauthorized' })
  })
})
