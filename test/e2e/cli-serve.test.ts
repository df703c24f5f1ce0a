// The process as users run it: `agnet serve` (the embedded default and a file), SIGHUP,
// SIGTERM, and `agnet config check`.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, spawnCli } from '../helpers/cli.js'

function tmpFile (name: string, text: string): string {
  const p = join(mkdtempSync(join(tmpdir(), 'agnet-cli-')), name)
  writeFileSync(p, text)
  return p
}

describe('agnet serve', () => {
  it('serves the embedded default with mock providers in four regions and prints the demo key and a curl', async () => {
    const s = spawnCli(['serve', '--port', '0'], { AGNET_DEMO_KEY: 'demo-key-from-env', AGNET_PORT: '' })
    try {
      const m = await s.waitFor(/serving the embedded demo on http:\/\/localhost:(\d+)/)
      await s.waitFor(/curl -s/)
      expect(s.stdout()).toContain('demo-key-from-env')
      const port = m[1] ?? ''
      for (const model of ['gpt-4o-mini', 'claude-haiku', 'gemini-flash', 'command-r']) {
        const res = await fetch(`http://127.0.0.1:${port}/demo/models/${model}/`, { method: 'POST', headers: { 'x-blaxel-authorization': 'Bearer demo-key-from-env', 'content-type': 'application/json' }, body: '{"inputs":"hello"}' })
        expect(res.status, model).toBe(200)
        expect(res.headers.get('x-mock-region')).toBe(res.headers.get('x-agnet-region'))
      }
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`)
      expect(ready.status).toBe(200)
    } finally {
      s.child.kill('SIGTERM')
    }
    expect(await s.exited).toBe(0)
  })

  it('reloads on SIGHUP and refuses a bad edit, keeping the last good config', async () => {
    const cfg = (region: string): string => `
server: { port: 0, accessLog: false }
workspaces:
  - name: acme
    models:
      - { name: gpt, runtime: { type: openai }, deployments: [{ region: ${region}, url: "mock://${region}" }] }
`
    const path = tmpFile('agnet.yaml', cfg('us-was-1'))
    const s = spawnCli(['serve', '--config', path, '--no-watch'])
    try {
      const m = await s.waitFor(/"port":(\d+)/)
      const url = `http://127.0.0.1:${m[1] ?? ''}/acme/models/gpt/v1/models`
      expect((await fetch(url)).headers.get('x-agnet-region')).toBe('us-was-1')
      writeFileSync(path, cfg('eu-lon-1'))
      s.child.kill('SIGHUP')
      await s.waitFor(/"generation":2,"msg":"config reloaded"/)
      expect((await fetch(url)).headers.get('x-agnet-region')).toBe('eu-lon-1')
      writeFileSync(path, 'workspaces: [{ name: "Not Valid" }]')
      s.child.kill('SIGHUP')
      await s.waitFor(/config reload refused/)
      expect(s.stdout() + s.stderr()).toMatch(/agnet\.yaml:1/)
      expect((await fetch(url)).status).toBe(200)
    } finally {
      s.child.kill('SIGTERM')
    }
    expect(await s.exited).toBe(0)
  })

  it('exits 2 with every problem when the config is invalid at start', async () => {
    const path = tmpFile('bad.yaml', 'workspaces:\n  - name: api\n    models: [{ name: m, runtime: { type: openai }, nope: 1 }]\n')
    const r = await runCli(['serve', '--config', path, '--port', '0'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('bad.yaml:2')
    expect(r.stderr).toContain('bad.yaml:3')
  })
})

describe('agnet config check', () => {
  it('prints ok for the embedded default', async () => {
    const r = await runCli(['config', 'check', 'config/default.yaml'], { AGNET_DEMO_KEY: 'x', AGNET_DEMO_CLIENT_ID: 'c', AGNET_DEMO_CLIENT_SECRET: 's' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^ok: \d+ workspace/)
  })

  it('prints every error with file:line and exits non-zero', async () => {
    const path = tmpFile('c.yaml', 'workspaces:\n  - name: Bad\n    models:\n      - { name: m, runtime: { type: openai }, colour: red }\n')
    const r = await runCli(['config', 'check', path])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('2 problem(s)')
    expect(r.stderr).toContain(`${path}:2`)
    expect(r.stderr).toContain(`${path}:4`)
  })
})
