// @blaxel/langgraph's blModel(...) through agnet: invoke and stream on an OpenAI-type and an
// Anthropic-type model. The package is NOT a dev dependency: 0.2.18 brings ~300 packages
// (LangChain, cohere-ai with the AWS SDK, js-tiktoken, OpenTelemetry; about 165 MB on top of
// ours) and pins its own @blaxel/core 0.2.18. The test runs when the package can be resolved,
// from node_modules or from AGNET_LANGGRAPH_DIR (a folder where `npm install @blaxel/langgraph`
// was run), and is skipped otherwise.
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { SDK_CONFIG, USER_KEY } from './sdk-config.js'

function resolveLanggraph (): string | null {
  const from = process.env.AGNET_LANGGRAPH_DIR === undefined ? import.meta.url : join(process.env.AGNET_LANGGRAPH_DIR, 'package.json')
  try {
    return createRequire(from).resolve('@blaxel/langgraph')
  } catch {
    return null
  }
}

const MODULE = resolveLanggraph()
const CLIENT = fileURLToPath(new URL('./sdk-langgraph-client.cjs', import.meta.url))

interface ModelReport { kind: string; invoke: string; usage: { input_tokens: number; output_tokens: number } | null; chunks: number; text: string }

describe.skipIf(MODULE === null)('@blaxel/langgraph blModel through agnet', () => {
  let gw: TestGateway
  beforeAll(async () => { gw = await startGateway(SDK_CONFIG) })
  afterAll(async () => { await gw.close() })

  it('invokes and streams an OpenAI and an Anthropic model', async () => {
    const home = mkdtempSync(join(tmpdir(), 'agnet-langgraph-home-'))
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('BL_')) env[k] = v
    Object.assign(env, {
      HOME: home,
      DO_NOT_TRACK: '1',
      BL_API_URL: `${gw.url}/v0`,
      BL_RUN_URL: gw.url,
      BL_WORKSPACE: 'demo',
      BL_API_KEY: USER_KEY,
      AGNET_LANGGRAPH_MODULE: MODULE as string,
      // blModel builds ChatAnthropic without an apiKey and LangChain insists on one; the Blaxel
      // headers carry the real credential and agnet replaces x-api-key upstream.
      ANTHROPIC_API_KEY: 'replaced'
    })
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [CLIENT], { cwd: home, env, timeout: 60_000 }, (err, stdout, stderr) => { if (err !== null) reject(new Error(`${err.message}\n${stderr}`)); else resolve(stdout) })
    })
    const report = JSON.parse(out.trim().split('\n').at(-1) as string) as Record<string, ModelReport> & { error?: string }
    expect(report.error).toBeUndefined()
    const gpt = report['gpt-4o-mini'] as ModelReport
    expect(gpt.kind).toBe('ChatOpenAI')
    expect(gpt.invoke.length).toBeGreaterThan(0)
    expect(gpt.usage?.input_tokens).toBe(2)
    expect(gpt.chunks).toBeGreaterThan(2)
    expect(gpt.text.length).toBeGreaterThan(0)
    const claude = report['claude-haiku'] as ModelReport
    expect(claude.kind).toBe('ChatAnthropic')
    expect(claude.invoke.length).toBeGreaterThan(0)
    expect(claude.usage?.output_tokens).toBe(24)
    expect(claude.chunks).toBeGreaterThan(2)
    expect(claude.text.length).toBeGreaterThan(0)
  })
})
