// The Python shim (python/sitecustomize.py) with the real python3, against a stand-in of the
// module it patches: blaxel.core.common.settings as the `blaxel` package ships it (a Settings
// class whose base_url and run_url properties answer from BL_ENV only, a module-level
// `settings = Settings()` that builds its auth from base_url once, and a package __init__
// that hands settings.base_url to its HTTP client). PyPI is not reachable from CI, so the real
// package cannot be installed here; the stand-in keeps exactly the parts the shim relies on.
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'

const SHIM_DIR = fileURLToPath(new URL('../../python', import.meta.url))
const KEY = 'agnet_python_shim_key_0123456789'

const SETTINGS_PY = `
import os

class _Auth:
    def __init__(self, env, base_url):
        self.env = env
        self.token_url = base_url + "/oauth/token"
        self.workspace_name = os.environ.get("BL_WORKSPACE", "")

    def get_headers(self):
        return {"X-Blaxel-Authorization": "Bearer " + os.environ.get("BL_API_KEY", ""), "X-Blaxel-Workspace": self.workspace_name}

def auth(env, base_url):
    return _Auth(env, base_url)

class Settings:
    def __init__(self):
        self.auth = auth(self.env, self.base_url)

    @property
    def env(self):
        return os.environ.get("BL_ENV", "prod")

    @property
    def base_url(self):
        if self.env == "prod":
            return "https://api.blaxel.ai/v0"
        return "https://api.blaxel.dev/v0"

    @property
    def run_url(self):
        if self.env == "prod":
            return "https://run.blaxel.ai"
        return "https://run.blaxel.dev"

    @property
    def headers(self):
        return self.auth.get_headers()

settings = Settings()
`

const INIT_PY = `
from .core.common.settings import settings

class _Client:
    base_url = None

client = _Client()
client.base_url = settings.base_url
`

const PROGRAM_PY = `
import json, sys, urllib.request
import blaxel
from blaxel.core.common.settings import settings

out = {"base_url": settings.base_url, "run_url": settings.run_url, "client": blaxel.client.base_url, "token_url": settings.auth.token_url}
if len(sys.argv) > 1 and sys.argv[1] == "call":
    req = urllib.request.Request(settings.base_url + "/models", headers=settings.headers)
    with urllib.request.urlopen(req) as res:
        out["models"] = [m["metadata"]["name"] for m in json.load(res)]
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi from python"}]}).encode()
    req = urllib.request.Request(settings.run_url + "/acme/models/gpt/v1/chat/completions", data=body, headers={**settings.headers, "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as res:
        out["status"] = res.status
        out["region"] = res.headers["x-agnet-region"]
print(json.dumps(out))
`

let gw: TestGateway
let sdkDir: string

beforeAll(async () => {
  gw = await startGateway(`
users:
  - name: py
    apiKeys: [{ name: py-key, value: "${KEY}" }]
workspaces:
  - name: acme
    members: [{ user: py, role: admin }]
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream" }
    models:
      - { name: gpt, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
`)
  sdkDir = mkdtempSync(join(tmpdir(), 'agnet-pysdk-'))
  mkdirSync(join(sdkDir, 'blaxel', 'core', 'common'), { recursive: true })
  writeFileSync(join(sdkDir, 'blaxel', '__init__.py'), INIT_PY)
  writeFileSync(join(sdkDir, 'blaxel', 'core', '__init__.py'), '')
  writeFileSync(join(sdkDir, 'blaxel', 'core', 'common', '__init__.py'), '')
  writeFileSync(join(sdkDir, 'blaxel', 'core', 'common', 'settings.py'), SETTINGS_PY)
  writeFileSync(join(sdkDir, 'program.py'), PROGRAM_PY)
})
afterAll(async () => { await gw.close() })

interface Out { base_url: string; run_url: string; client: string; token_url: string; models?: string[]; status?: number; region?: string }

/** Runs the program in a clean environment: only what a user would export. */
async function python (pythonPath: string[], env: Record<string, string>, args: string[] = []): Promise<Out> {
  const child = spawn('python3', [join(sdkDir, 'program.py'), ...args], {
    cwd: sdkDir,
    env: { PATH: process.env.PATH ?? '', PYTHONPATH: [...pythonPath, sdkDir].join(':'), PYTHONDONTWRITEBYTECODE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += String(d) })
  child.stderr.on('data', d => { stderr += String(d) })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`python3 exited ${String(code)}:\n${stderr}`)
  return JSON.parse(stdout) as Out
}

describe('the Blaxel Python SDK shim', () => {
  it('finds python3 (3.8 or later)', () => {
    const v = spawnSync('python3', ['-c', 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])'], { encoding: 'utf8' })
    expect(Number(v.stdout.trim())).toBeGreaterThanOrEqual(308)
  })

  it('without the shim, BL_API_URL and BL_RUN_URL are ignored: the SDK goes to Blaxel\'s cloud', async () => {
    const out = await python([], { BL_API_URL: `${gw.url}/v0`, BL_RUN_URL: gw.url })
    expect(out).toMatchObject({ base_url: 'https://api.blaxel.ai/v0', run_url: 'https://run.blaxel.ai', client: 'https://api.blaxel.ai/v0', token_url: 'https://api.blaxel.ai/v0/oauth/token' })
  })

  it('with the shim first on PYTHONPATH, the settings, the client and the token endpoint follow the variables', async () => {
    const out = await python([SHIM_DIR], { BL_API_URL: `${gw.url}/v0/`, BL_RUN_URL: gw.url, BL_WORKSPACE: 'acme', BL_API_KEY: KEY })
    expect(out).toMatchObject({ base_url: `${gw.url}/v0`, run_url: gw.url, client: `${gw.url}/v0`, token_url: `${gw.url}/v0/oauth/token` })
  })

  it('reaches agnet\'s control plane and run plane through the SDK\'s own settings and headers', async () => {
    const out = await python([SHIM_DIR], { BL_API_URL: `${gw.url}/v0`, BL_RUN_URL: gw.url, BL_WORKSPACE: 'acme', BL_API_KEY: KEY }, ['call'])
    expect(out).toMatchObject({ models: ['gpt'], status: 200, region: 'eu-lon-1' })
  })

  it('changes nothing when the variables are unset, and patches one of the two when only it is set', async () => {
    expect(await python([SHIM_DIR], {})).toMatchObject({ base_url: 'https://api.blaxel.ai/v0', run_url: 'https://run.blaxel.ai' })
    expect(await python([SHIM_DIR], { BL_ENV: 'dev' })).toMatchObject({ base_url: 'https://api.blaxel.dev/v0', run_url: 'https://run.blaxel.dev' })
    expect(await python([SHIM_DIR], { BL_RUN_URL: gw.url })).toMatchObject({ base_url: 'https://api.blaxel.ai/v0', run_url: gw.url })
  })

  it('still runs the sitecustomize it shadows', async () => {
    const other = mkdtempSync(join(tmpdir(), 'agnet-othersite-'))
    writeFileSync(join(other, 'sitecustomize.py'), 'import os\nos.environ["BL_ENV"] = "dev"\n')
    const out = await python([SHIM_DIR, other], { BL_RUN_URL: gw.url })
    expect(out).toMatchObject({ base_url: 'https://api.blaxel.dev/v0', run_url: gw.url })
  })
})
