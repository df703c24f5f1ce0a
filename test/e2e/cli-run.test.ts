// `agnet run model <name>` as a user runs it: the built CLI (dist/, which `npm test` builds
// first) in its own process, against a gateway on a real socket, with credentials from
// BL_API_KEY / BL_WORKSPACE / BL_CLIENT_CREDENTIALS like `bl run`.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { CLIENT_ID, CLIENT_SECRET, SDK_CONFIG, USER_KEY } from './sdk-config.js'

const MAIN = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

interface Run { code: number; stdout: string; stderr: string }

function cleanEnv (): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BL_') && !k.startsWith('BLAXEL_') && !k.startsWith('AGNET_')) out[k] = v
  return out
}

interface Started { child: ChildProcess; done: Promise<Run>; stdout: () => string; stderr: () => string }

function start (args: string[], env: Record<string, string>): Started {
  const child = spawn(process.execPath, [MAIN, 'run', ...args], { env: { ...cleanEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', code => { resolve({ code: code ?? -1, stdout, stderr }) })
  })
  return { child, done, stdout: () => stdout, stderr: () => stderr }
}

async function run (args: string[], env: Record<string, string>): Promise<Run> {
  return await start(args, env).done
}

/**
 * Resolves with all the output so far once `pattern` shows up in it. `text` reads what the
 * listener registered at spawn collected, so output that came before this call counts too.
 */
async function waitFor (stream: NodeJS.ReadableStream, text: () => string, pattern: RegExp): Promise<string> {
  if (pattern.test(text())) return text()
  return await new Promise((resolve, reject) => {
    const onData = (): void => {
      if (pattern.test(text())) { stream.off('data', onData); resolve(text()) }
    }
    stream.on('data', onData)
    stream.once('end', () => { reject(new Error(`stream ended before ${String(pattern)}; got: ${text()}`)) })
  })
}

describe('agnet run model', () => {
  let gw: TestGateway
  let env: Record<string, string>
  const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello from the cli' }] })

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error('dist/cli/main.js is missing: run `npx tsc -p tsconfig.build.json` (npm test does it first)')
    gw = await startGateway(SDK_CONFIG)
    env = { BL_API_KEY: USER_KEY, BL_WORKSPACE: 'demo', AGNET_URL: gw.url }
  })
  afterAll(async () => { await gw.close() })

  it('chooses the default path from the model\'s integration and pretty-prints JSON', async () => {
    const r = await run(['model', 'gpt-4o-mini', '--data', chat], env)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Using default path: /v1/chat/completions')
    const body = JSON.parse(r.stdout) as { object: string; usage: { prompt_tokens: number } }
    expect(body.object).toBe('chat.completion')
    expect(body.usage.prompt_tokens).toBe(4)
    // Pretty: indented over several lines.
    expect(r.stdout.split('\n').length).toBeGreaterThan(5)
  })

  it('picks /v1/messages for an Anthropic model', async () => {
    const r = await run(['model', 'claude-haiku', '--data', JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }), '-o', 'json'], env)
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('Using default path: /v1/messages')
    // -o json: one compact line.
    expect(r.stdout.trim().split('\n')).toHaveLength(1)
    expect((JSON.parse(r.stdout) as { type: string }).type).toBe('message')
  })

  it('reads the body from a JSON or a YAML file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agnet-run-'))
    writeFileSync(join(dir, 'req.json'), chat)
    writeFileSync(join(dir, 'req.yaml'), 'model: gpt-4o-mini\nmessages:\n  - role: user\n    content: one two three four five\n')
    const j = await run(['model', 'gpt-4o-mini', '--path', '/v1/chat/completions', '--file', join(dir, 'req.json')], env)
    expect(j.code).toBe(0)
    expect((JSON.parse(j.stdout) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(4)
    const y = await run(['model', 'gpt-4o-mini', '--path', '/v1/chat/completions', '-f', join(dir, 'req.yaml')], env)
    expect(y.code).toBe(0)
    expect((JSON.parse(y.stdout) as { usage: { prompt_tokens: number } }).usage.prompt_tokens).toBe(5)
  })

  it('sends --method, repeated --header and --params, and bl\'s identity headers', async () => {
    const r = await run([
      'model', 'gpt-4o-mini', '--method', 'put', '--path', '/__echo/here', '--data', '{"x":1}',
      '--header', 'X-Test-One: 1', '--header', 'X-Test-Two: two words',
      '--params', 'a=1', '--params', 'b=2,c=x y'
    ], env)
    expect(r.code).toBe(0)
    const echo = JSON.parse(r.stdout) as { method: string; url: string; headers: Record<string, string> }
    expect(echo.method).toBe('PUT')
    expect(echo.url).toBe('/__echo/here?a=1&b=2&c=x+y')
    expect(echo.headers['x-test-one']).toBe('1')
    expect(echo.headers['x-test-two']).toBe('two words')
    expect(echo.headers['content-type']).toBe('application/json')
    expect(echo.headers['user-agent']).toMatch(/^agnet\/cli\//)
    // The gateway stripped the client's credential and workspace before the upstream.
    expect(JSON.stringify(echo.headers)).not.toContain(USER_KEY)
    expect(echo.headers['x-blaxel-workspace']).toBeUndefined()
  })

  it('GETs with --method GET', async () => {
    const r = await run(['model', 'gpt-4o-mini', '--method', 'GET', '--path', '/v1/models'], env)
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as { data: Array<{ id: string }> }).data.map(m => m.id)).toContain('gpt-4o-mini')
  })

  it('prints a stream as it arrives, event by event', async () => {
    const mockUrl = (await gw.mocks.ensure(['eu-fra-1'])).get('eu-fra-1') as string
    const cli = start(['model', 'gpt-4o-mini', '--path', '/__sse/controlled', '--params', 'n=3', '--stream', '--debug'], env)
    const stdout = cli.child.stdout as NodeJS.ReadableStream
    let released = false
    try {
      const head = await waitFor(cli.child.stderr as NodeJS.ReadableStream, cli.stderr, /x-mock-stream-id: (\d+)/)
      const id = /x-mock-stream-id: (\d+)/.exec(head)?.[1] as string
      // --stream asks for a stream the way bl does; --debug shows it, with the credential masked.
      expect(head).toContain('  accept: text/event-stream')
      expect(head).toContain('  cache-control: no-cache')
      expect(head).toContain('  authorization: Bearer ***')
      expect(head).not.toContain(USER_KEY)
      // Event 0 is on stdout while the upstream still holds the stream open: the mock sends
      // event i+1 only after event i was acknowledged, and we acknowledge after seeing it.
      await waitFor(stdout, cli.stdout, /data: \{"i":0\}/)
      for (const i of [0, 1]) {
        expect(cli.stdout()).not.toContain(`"i":${i + 1}`)
        const ack = await fetch(`${mockUrl}/__sse/ack?stream=${id}&i=${i}`, { method: 'POST' })
        expect(ack.status).toBe(200)
        await waitFor(stdout, cli.stdout, new RegExp(`data: \\{"i":${i + 1}\\}`))
      }
      released = true
    } finally {
      // A failed assertion must not leave the CLI holding the stream open for the next test.
      if (!released) cli.child.kill()
    }
    const r = await cli.done
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('id: 0\ndata: {"i":0}\n\nid: 1\ndata: {"i":1}\n\nid: 2\ndata: {"i":2}\n\n')
  })

  it('streams a chat completion with --stream', async () => {
    const r = await run(['model', 'gpt-4o-mini', '--stream', '--data', JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] })], env)
    expect(r.code).toBe(0)
    expect(r.stdout.trimEnd().endsWith('data: [DONE]')).toBe(true)
    expect(r.stdout.split('\n\n').filter(e => e.startsWith('data: {')).length).toBeGreaterThan(2)
  })

  it('exits non-zero on a status of 400 or more and prints the error body', async () => {
    const missing = await run(['model', 'nope', '--path', '/v1/chat/completions', '--data', chat], env)
    expect(missing.code).toBe(1)
    expect(missing.stderr).toContain('response status: 404')
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'WORKLOAD_NOT_FOUND', status: 404 } })
    // On the Anthropic model, so that the injected failure cannot eject the deployment other tests use.
    const upstream = await run(['model', 'claude-haiku', '--path', '/v1/messages', '--data', '{}', '--header', 'x-mock-status: 429'], env)
    expect(upstream.code).toBe(1)
    expect(upstream.stderr).toContain('response status: 429')
    const badKey = await run(['model', 'gpt-4o-mini', '--data', chat], { ...env, BL_API_KEY: 'agnet_wrong_key_0000000000000000' })
    expect(badKey.code).toBe(1)
    expect(badKey.stderr).toContain('response status: 401')
    expect(badKey.stdout + badKey.stderr).not.toContain('agnet_wrong_key_0000000000000000')
  })

  it('uses BL_API_URL and BL_RUN_URL, -w and --api-key instead of the environment', async () => {
    const r = await run(['model', 'gpt-4o-mini', '-w', 'demo', '--api-key', USER_KEY, '--data', chat, '--debug'], { BL_API_URL: `${gw.url}/v0`, BL_RUN_URL: gw.url })
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(r.stderr).toContain(`Request URL: ${gw.url}/demo/models/gpt-4o-mini/v1/chat/completions`)
    expect(r.stderr).toMatch(/x-agnet-region: eu-fra-1/)
  })

  it('authenticates with BL_CLIENT_CREDENTIALS through agnet\'s token issuer', async () => {
    const r = await run(['model', 'gpt-4o-mini', '--data', chat], { BL_WORKSPACE: 'demo', AGNET_URL: gw.url, BL_CLIENT_CREDENTIALS: Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64') })
    expect(r.stderr).not.toContain('agnet run:')
    expect(r.code).toBe(0)
    expect((JSON.parse(r.stdout) as { object: string }).object).toBe('chat.completion')
    const bad = await run(['model', 'gpt-4o-mini', '--data', chat], { BL_WORKSPACE: 'demo', AGNET_URL: gw.url, BL_CLIENT_CREDENTIALS: Buffer.from(`${CLIENT_ID}:wrong`).toString('base64') })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('the token issuer refused the client credentials')
  })

  it('says where it could not connect', async () => {
    const r = await run(['model', 'gpt-4o-mini', '--url', 'http://127.0.0.1:1', '-w', 'demo', '--path', '/v1/chat/completions'], {})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('ECONNREFUSED')
    expect(r.stderr).toContain('agnet serve')
  })

  it('refuses other resource types and bad headers clearly', async () => {
    const agent = await run(['agent', 'x'], env)
    expect(agent.code).toBe(1)
    expect(agent.stderr).toContain('agnet runs models only')
    const header = await run(['model', 'gpt-4o-mini', '--header', 'no-colon'], env)
    expect(header.code).toBe(1)
    expect(header.stderr).toContain('Must be \'Key: Value\'')
  })
})
