// `agnet token` as users run it (the built CLI), against a real gateway: keys created by the
// CLI work, tokens minted by it verify, inspect tells what a credential is.
import { generateKeyPairSync } from 'node:crypto'
import { spawn as spawnProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startMockServer, type MockServer } from '../../src/mock/index.js'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { CLI, runCli } from '../helpers/cli.js'

let mock: MockServer
let dir = ''
let keyFile = ''

const config = (hash: string, withKey: boolean): string => `
users: [{ name: u, apiKeys: [{ name: cli-key, hash: "${hash}" }] }]
${withKey ? `auth: { issuer: { privateKeyFile: "${keyFile}", issuer: "https://agnet.test" } }` : ''}
workspaces:
  - name: acme
    members: [{ user: u, role: member }]
    serviceAccounts: [{ name: bot, clientId: bot-id, clientSecret: "bot-secret-0123456789" }]
    integrations: [{ name: oai, provider: openai, baseUrl: "${mock.url}", apiKey: "sk-up" }]
    models: [{ name: gpt, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }]
`

function file (name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agnet-token-cli-'))
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  keyFile = file('issuer.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
  mock = await startMockServer({ region: 'test' })
})
afterAll(async () => { await mock.close() })

async function call (gw: TestGateway, token: string): Promise<number> {
  return (await fetch(`${gw.url}/acme/models/gpt/__echo/x`, { headers: { 'x-blaxel-authorization': `Bearer ${token}` } })).status
}

// Each case spawns the CLI several times; on a loaded 2-core machine a spawn can take seconds.
describe('agnet token', { timeout: 120_000 }, () => {
  it('create-key prints the secret once and a hash line; the gateway accepts the key by its hash', async () => {
    const r = await runCli(['token', 'create-key', '--name', 'ci', '--json'])
    expect(r.code).toBe(0)
    const { key, hash } = JSON.parse(r.stdout) as { key: string; hash: string }
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/)
    const text = await runCli(['token', 'create-key', '--name', 'ci', '--scope', 'gpt'])
    expect(text.stdout).toMatch(/hash: "sha256:[0-9a-f]{64}", scopes: \[gpt\]/)
    const gw = await startGateway(config(hash, false))
    try {
      expect(await call(gw, key)).toBe(200)
      expect(await call(gw, key + 'x')).toBe(401)
    } finally { await gw.close() }

    // `token hash` reads the secret from stdin, never from the command line.
    const child = spawnProcess(process.execPath, [CLI, 'token', 'hash'], { stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', d => { out += String(d) })
    child.stdin.end(`${key}\n`)
    await new Promise(resolve => child.once('exit', resolve))
    expect(out.trim()).toBe(hash)
  })

  it('mint signs with the configured issuer key; the gateway of that config accepts the token', async () => {
    const path = file('signed.yaml', config('sha256:' + '0'.repeat(64), true))
    const r = await runCli(['token', 'mint', '-c', path, '--client-id', 'bot-id', '--ttl', '10m'])
    expect(r.stderr).toBe('')
    const minted = JSON.parse(r.stdout) as { access_token: string; expires_in: number; workspace: string }
    expect(minted).toMatchObject({ expires_in: 600, workspace: 'acme' })
    const gw = await startGateway(config('sha256:' + '0'.repeat(64), true))
    try {
      expect(await call(gw, minted.access_token)).toBe(200)
      const inspected = await runCli(['token', 'inspect', minted.access_token, '-c', path])
      expect(inspected.code).toBe(0)
      expect(JSON.parse(inspected.stdout)).toMatchObject({ kind: 'jwt', payload: { sub: 'bot-id', workspace: 'acme', iss: 'https://agnet.test' }, verified: { ok: true, principal: { subject: 'bot', workspaces: { acme: 'member' } } } })
    } finally { await gw.close() }
  })

  it('mint without a configured key explains the choice; --url asks a running agnet; inspect --url verifies', async () => {
    const path = file('plain.yaml', config('sha256:' + '0'.repeat(64), false))
    const r = await runCli(['token', 'mint', '-c', path, '--client-id', 'bot-id'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/privateKeyFile|--url/)
    expect((await runCli(['token', 'mint', '-c', path, '--client-id', 'nobody'])).stderr).toMatch(/no service account/)
    // Without a configured iss, a locally minted token names http://localhost:<port>: --port chooses it.
    const keyed = file('keyed-no-iss.yaml', config('sha256:' + '0'.repeat(64), true).replace(', issuer: "https://agnet.test"', ''))
    const onPort = await runCli(['token', 'mint', '-c', keyed, '--client-id', 'bot-id', '--port', '9123'], { AGNET_PORT: '' })
    expect(JSON.parse(onPort.stdout)).toMatchObject({ iss: 'http://localhost:9123' })
    const gw = await startGateway(config('sha256:' + '0'.repeat(64), false))
    try {
      const viaUrl = await runCli(['token', 'mint', '-c', path, '--client-id', 'bot-id', '--url', gw.url])
      expect(viaUrl.stderr).toBe('')
      const body = JSON.parse(viaUrl.stdout) as { access_token: string; refresh_token: string; expires_in: number }
      expect(body.expires_in).toBe(7200)
      expect(await call(gw, body.access_token)).toBe(200)
      const ok = await runCli(['token', 'inspect', body.access_token, '--url', gw.url])
      expect(JSON.parse(ok.stdout)).toMatchObject({ kind: 'jwt', verified: { ok: true } })
      const forged = body.access_token.slice(0, -4) + 'AAAA'
      const bad = await runCli(['token', 'inspect', forged, '--url', gw.url])
      expect(bad.code).toBe(1)
      const wrong = await runCli(['token', 'mint', '--client-id', 'bot-id', '--client-secret', 'nope', '--url', gw.url])
      expect(wrong.code).toBe(1)
      expect(wrong.stderr).toMatch(/401: invalid_client/)
    } finally { await gw.close() }
  })

  it('inspect of an API key against a config names the principal, never prints the secret back', async () => {
    const r = await runCli(['token', 'create-key', '--json'])
    const { key, hash } = JSON.parse(r.stdout) as { key: string; hash: string }
    const path = file('keys.yaml', config(hash, false))
    const ins = await runCli(['token', 'inspect', key, '-c', path])
    expect(ins.code).toBe(0)
    expect(ins.stdout).not.toContain(key)
    expect(JSON.parse(ins.stdout)).toMatchObject({ kind: 'api-key', hash, verified: { ok: true, principal: { kind: 'user', subject: 'u', credential: 'cli-key' } } })
    const unknown = await runCli(['token', 'inspect', 'agnet_unknown', '-c', path])
    expect(unknown.code).toBe(1)
  })
})
