// What a new user meets in the first minutes, with the built CLI and real sockets: an empty
// Bearer token (an unset shell variable) explained, an unknown command named, `config check`
// in one pass with warnings and JSON, the log settings from the environment, and a minted
// token printed bare for $(…).
import { generateKeyPairSync } from 'node:crypto'
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { runCli, spawnCli } from '../helpers/cli.js'
import { freePort } from '../helpers/net.js'

const KEY = 'agnet_first_minutes_key_0123456789'
let gw: TestGateway
let dir = ''

function file (name: string, text: string): string {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agnet-first-'))
  gw = await startGateway(`
users: [{ name: u, apiKeys: [{ name: k, value: "${KEY}" }] }]
workspaces:
  - name: demo
    members: [{ user: u, role: admin }]
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-up" }]
    models: [{ name: gpt-4o-mini, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }]
`)
})
afterAll(async () => { await gw.close() })

/** Runs a command line in bash, as pasted into a shell where some variables are unset. */
async function bash (script: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string }> {
  const child = spawn('bash', ['-c', script], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  child.stdout.on('data', d => { stdout += String(d) })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  return { code, stdout }
}

describe('an empty Bearer token', () => {
  it.each([
    ['X-Blaxel-Authorization', 'X-Blaxel-Authorization: Bearer $AGNET_DEMO_KEY'],
    ['Authorization', 'Authorization: Bearer $AGNET_DEMO_KEY']
  ])('curl with an unset variable in %s gets its own message', async (_name, header) => {
    const r = await bash(`curl -s ${gw.url}/demo/models/gpt-4o-mini/v1/chat/completions -H "${header}" -H 'Content-Type: application/json' -d '{"messages":[]}'`)
    expect(r.code).toBe(0)
    const body = JSON.parse(r.stdout) as { error: { code: string; status: number; message: string } }
    expect(body.error).toMatchObject({ code: 'AUTHENTICATION_REQUIRED', status: 401 })
    expect(body.error.message).toMatch(/Bearer token is empty/)
    expect(body.error.message).toMatch(/\$AGNET_DEMO_KEY/)
    expect(body.error.message).not.toMatch(/too long/)
  })

  it('the control plane says the same', async () => {
    const res = await fetch(`${gw.url}/v0/models`, { headers: { authorization: 'Bearer ' } })
    expect(res.status).toBe(401)
    expect(((await res.json()) as { message: string }).message).toMatch(/Bearer token is empty/)
  })
})

describe('the command line', { timeout: 300_000 }, () => {
  it('names an unknown command and lists the commands', async () => {
    const r = await runCli(['foo'])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/unknown command 'foo'/)
    expect(r.stderr).toMatch(/Commands: serve, mock, config, healthcheck, loadtest, run, explain, token/)
    expect(r.stderr).not.toMatch(/too many arguments/)
    // Known commands and options still parse.
    expect((await runCli(['config', 'schema'])).code).toBe(0)
    expect((await runCli(['--version'])).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it('token mint --bare prints the token alone, for $(…)', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const keyFile = file('issuer.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
    const path = file('mint.yaml', `
auth: { issuer: { privateKeyFile: "${keyFile}", issuer: "https://agnet.test" } }
workspaces:
  - name: acme
    serviceAccounts: [{ name: bot, clientId: bot-id, clientSecret: "bot-secret-0123456789" }]
    models: [{ name: gpt, runtime: { type: openai }, deployments: [{ region: us-pdx-1, url: "mock://" }] }]
`)
    const local = await runCli(['token', 'mint', '-c', path, '--client-id', 'bot-id', '--bare'])
    expect(local.code).toBe(0)
    expect(local.stdout).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/)
    const served = await startGateway(`
workspaces:
  - name: acme
    serviceAccounts: [{ name: bot, clientId: bot-id, clientSecret: "bot-secret-0123456789" }]
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-up" }]
    models: [{ name: gpt, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }]
`)
    try {
      const cli = (await import('../helpers/cli.js')).CLI
      const r = await bash(`TOKEN=$("${process.execPath}" "${cli}" token mint --client-id bot-id --client-secret bot-secret-0123456789 --url ${served.url} --bare) && curl -s -o /dev/null -w '%{http_code}' ${served.url}/acme/models/gpt/v1/chat/completions -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"messages":[{"role":"user","content":"hi"}]}'`)
      expect(r).toEqual({ code: 0, stdout: '200' })
    } finally { await served.close() }
  })
})

describe('agnet config check', { timeout: 300_000 }, () => {
  it('reports eleven mistakes of every kind in one run, each at its file and line', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'agnet-eleven-'))
    writeFileSync(join(folder, '10-main.yaml'), `server:
  shutdownGrace: soon
users:
  - name: alice
    apiKeys: [{ name: laptop, value: "\${ALICE_KEY_NEVER_SET}" }]
workspaces:
  - name: acme
    members: [{ user: alice, role: admin }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "k" }
    models:
      - { name: a, runtime: { type: openai-compatible }, integrationConnections: [oai] }
      - { name: b, runtime: { type: openai, generation: mk4 }, integrationConnections: [oai] }
      - { name: c, runtime: { type: openai }, integrationConnections: [ghost] }
      - { name: d, runtime: { type: openai }, integrationConnections: [oai], policies: [nope] }
      - { name: e, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: mars-1 }] }
      - { name: f, runtime: { type: openai }, integrationConnections: [oai], colour: blue }
      - { name: g, runtime: { type: openai }, integrationConnections: [oai] }
      - { name: g, runtime: { type: openai }, integrationConnections: [oai] }
  - name: v0
`)
    writeFileSync(join(folder, '20-broken.yaml'), 'workspaces:\n  - name: other\n    models: [ { name: x\n')
    const r = await runCli(['config', 'check', folder, '--json'])
    expect(r.code).toBe(1)
    const out = JSON.parse(r.stdout) as { ok: boolean; problems: Array<{ file: string; line: number | null; field: string; message: string }> }
    expect(out.ok).toBe(false)
    const expected: Array<[string, string, number | null, RegExp]> = [
      ['20-broken.yaml', '', 4, /^YAML: /],
      ['10-main.yaml', 'server.shutdownGrace', 2, /expected a duration/],
      ['10-main.yaml', 'users[0].apiKeys[0].value', 5, /ALICE_KEY_NEVER_SET is not set/],
      ['10-main.yaml', 'workspaces[0].models[0].runtime.type', 12, /expected one of .*"openai"/],
      ['10-main.yaml', 'workspaces[0].models[1].runtime.generation', 13, /expected one of "mk2", "mk3"/],
      ['10-main.yaml', 'workspaces[0].models[2].integrationConnections[0]', 14, /unknown integration connection "ghost"/],
      ['10-main.yaml', 'workspaces[0].models[3].policies[0]', 15, /unknown policy "nope"/],
      ['10-main.yaml', 'workspaces[0].models[4].deployments[0].region', 16, /unknown region "mars-1"/],
      ['10-main.yaml', 'workspaces[0].models[5].colour', 17, /unknown field/],
      ['10-main.yaml', 'workspaces[0].models[7].name', 19, /model "g" is defined twice/],
      ['10-main.yaml', 'workspaces[1].name', 20, /"v0" is reserved/]
    ]
    for (const [name, field, line, message] of expected) {
      expect(out.problems.some(p => p.file.endsWith(name) && p.field === field && p.line === line && message.test(p.message)), `${name} ${field}`).toBe(true)
    }
    // Nothing else: no repeats (one per deployment) and no echo of an entry set aside.
    const distinct = new Set(out.problems.map(p => `${p.file.split('/').at(-1) ?? ''} ${p.field}`))
    expect(distinct.size).toBe(expected.length)
  })

  it('honours AGNET_CONFIG, warns about an open run plane and a model no region can serve, in text and JSON', async () => {
    const path = file('warn.yaml', `workspaces:
  - name: w
    policies:
      - { name: eu, type: location, locations: [{ type: continent, name: EU }] }
    models:
      - { name: m, runtime: { type: openai }, policies: [eu], deployments: [{ region: us-pdx-1, url: "mock://" }] }
`)
    const json = await runCli(['config', 'check', '--json'], { AGNET_CONFIG: path })
    expect(json.code).toBe(0)
    const out = JSON.parse(json.stdout) as { path: string; ok: boolean; warnings: Array<{ field: string; line: number | null; message: string }>; summary: unknown }
    expect(out).toMatchObject({ path, ok: true, summary: { workspaces: 1, models: 1, deployments: 1, files: 1 } })
    expect(out.warnings).toHaveLength(2)
    expect(out.warnings[0]?.message).toMatch(/run plane is open/)
    expect(out.warnings[1]).toMatchObject({ field: 'workspaces[0].models[0].name', line: 6 })
    expect(out.warnings[1]?.message).toMatch(/no region can serve this model/)
    const text = await runCli(['config', 'check'], { AGNET_CONFIG: path })
    expect(text.code).toBe(0)
    expect(text.stdout).toMatch(/^ok: 1 workspace/)
    expect(text.stderr).toMatch(/2 warning\(s\):[\s\S]*run plane is open[\s\S]*warn\.yaml:6:\d+: workspaces\[0\]\.models\[0\]\.name: no region can serve/)
    // Open on purpose: no warning about it.
    const declared = file('declared-open.yaml', `auth: { open: true }\n${readFileSync(path, 'utf8')}`)
    const quiet = JSON.parse((await runCli(['config', 'check', declared, '--json'])).stdout) as { warnings: Array<{ message: string }> }
    expect(quiet.warnings.map(w => w.message)).toEqual([expect.stringMatching(/no region can serve/)])
  })

  it('checks the embedded default without the demo variables, and names a bad environment setting', async () => {
    const unset = { AGNET_CONFIG: '', AGNET_DEMO_KEY: '', AGNET_DEMO_CLIENT_ID: '', AGNET_DEMO_CLIENT_SECRET: '' }
    const r = await runCli(['config', 'check', '--json'], unset)
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, problems: [], warnings: [] })
    const bad = await runCli(['config', 'check'], { ...unset, AGNET_LOG_LEVEL: 'loud', AGNET_ACCESS_LOG: 'maybe' })
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/AGNET_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent/)
    expect(bad.stderr).toMatch(/AGNET_ACCESS_LOG: expected true or false/)
  })
})

describe('log settings from the environment', { timeout: 400_000 }, () => {
  it('AGNET_ACCESS_LOG=false silences access lines and AGNET_LOG_LEVEL is honoured by the embedded demo', async () => {
    const port = await freePort()
    const s = spawnCli(['serve'], { AGNET_PORT: String(port), AGNET_HOST: '127.0.0.1', AGNET_ACCESS_LOG: 'false', AGNET_LOG_LEVEL: 'warn', AGNET_DEMO_KEY: KEY, AGNET_CONFIG: '' })
    try {
      await s.waitFor(/agnet is serving the embedded demo/, 120_000)
      const res = await fetch(`http://127.0.0.1:${port}/demo/models/gpt-4o-mini/v1/chat/completions`, { method: 'POST', headers: { 'x-blaxel-authorization': `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': 'env-quiet-1' }, body: '{"messages":[{"role":"user","content":"hi"}]}' })
      expect(res.status).toBe(200)
      await res.text()
      // The server answers healthz only after the line of the earlier request would be written.
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200)
      expect(s.stdout()).not.toContain('env-quiet-1')
      // warn: the info line "agnet listening" is not printed either.
      expect(s.stdout()).not.toContain('agnet listening')
    } finally {
      s.child.kill('SIGTERM')
      await s.exited
    }
    const loud = spawnCli(['serve'], { AGNET_PORT: String(port), AGNET_HOST: '127.0.0.1', AGNET_LOG_LEVEL: 'info', AGNET_DEMO_KEY: KEY, AGNET_CONFIG: '' })
    try {
      await loud.waitFor(/agnet is serving the embedded demo/, 120_000)
      await (await fetch(`http://127.0.0.1:${port}/demo/models/gpt-4o-mini/v1/chat/completions`, { method: 'POST', headers: { 'x-blaxel-authorization': `Bearer ${KEY}`, 'content-type': 'application/json', 'x-request-id': 'env-loud-1' }, body: '{"messages":[{"role":"user","content":"hi"}]}' })).text()
      await loud.waitFor(/"reqId":"env-loud-1"/, 120_000)
    } finally {
      loud.child.kill('SIGTERM')
      await loud.exited
    }
  })
})
