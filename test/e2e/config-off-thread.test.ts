// A big config is loaded on a worker thread: same input, same files, same problems with the
// same file:line as loading in place, and the event loop keeps turning meanwhile. Runs the
// built modules (dist/): the worker is a built script, as in the package and the image.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// @ts-expect-error the built module has no declaration file next to it for the test's resolver
import { loadConfigOffThread, configBytes, OFF_THREAD_MIN_BYTES } from '../../dist/config/load-off-thread.js'
// @ts-expect-error as above
import { loadConfig, ConfigError } from '../../dist/config/load.js'
// @ts-expect-error as above
import { compileRuntime } from '../../dist/config/compile.js'
// @ts-expect-error as above
import { DispatcherRegistry } from '../../dist/proxy/dispatchers.js'

interface Problem { file: string, line: number | null, column: number | null, field: string, message: string }
type Loaded = { input: unknown, files: string[], locate: (p: Array<string | number>) => Problem }
const offThread = loadConfigOffThread as (s: string, o?: { env?: NodeJS.ProcessEnv }, min?: number) => Promise<Loaded>
const inPlace = loadConfig as (s: string, o?: { env?: NodeJS.ProcessEnv }) => Loaded

function folder (files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'agnet-offthread-'))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const workspace = (i: number): string => `  - { name: ws${i}, integrations: [{ name: oai, provider: openai, baseUrl: "http://127.0.0.1:1", apiKey: "\${UPSTREAM_KEY}" }], models: [{ name: m, runtime: { type: openai }, integrationConnections: [oai], deployments: [{ region: us-pdx-1 }] }] }\n`
const env = { ...process.env, UPSTREAM_KEY: 'sk-from-env' }

/** Resolves with how many event-loop turns ran while `p` was pending. */
async function turnsDuring<T> (p: () => Promise<T>): Promise<{ value: T, turns: number }> {
  let turns = 0
  let done = false
  const tick = (): void => { if (!done) { turns++; setImmediate(tick) } }
  setImmediate(tick)
  const value = await p()
  done = true
  return { value, turns }
}

describe('loading a config off the event loop', () => {
  it('gives what loading in place gives, and the event loop turns meanwhile', async () => {
    const dir = folder({ 'a.yaml': `version: 1\nworkspaces:\n${Array.from({ length: 50 }, (_, i) => workspace(i)).join('')}`, 'b.yaml': `workspaces:\n${workspace(50)}` })
    const { value, turns } = await turnsDuring(async () => await offThread(dir, { env }, 0))
    expect(turns).toBeGreaterThan(0)
    const here = inPlace(dir, { env })
    expect(value.input).toEqual(here.input)
    expect(value.files).toEqual(here.files)
    expect(JSON.stringify(value.input)).toContain('sk-from-env') // the env reached the thread
    // Below the threshold the config loads in place: no turn of the loop in between.
    expect((await turnsDuring(async () => await offThread(dir, { env }))).turns).toBe(0)
    expect(configBytes(dir)).toBeLessThan(OFF_THREAD_MIN_BYTES)
  })

  it('reports schema problems with the same file, line and message', async () => {
    const dir = folder({ 'c.yaml': 'version: 1\nworkspaces:\n  - name: Bad_Name\n    models: 7\n' })
    const err = await offThread(dir, { env }, 0).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    let want: unknown
    try { inPlace(dir, { env }) } catch (e) { want = e }
    expect((err as { problems: Problem[] }).problems).toEqual((want as { problems: Problem[] }).problems)
    expect((err as { problems: Problem[] }).problems[0]?.line).toBe(3)
  })

  it('locates problems found when compiling, as in place', async () => {
    // A model naming an integration that does not exist: found by the compiler, not the schema.
    const text = 'version: 1\nworkspaces:\n  - name: acme\n    models:\n      - { name: m, runtime: { type: openai }, integrationConnections: [nope], deployments: [{ region: us-pdx-1 }] }\n'
    const dir = folder({ 'd.yaml': text })
    const compile = (l: Loaded): unknown => { try { compileRuntime(l, { dispatchers: new DispatcherRegistry() }); return null } catch (e) { return e } }
    const off = compile(await offThread(dir, { env }, 0)) as { problems: Problem[] }
    const here = compile(inPlace(dir, { env })) as { problems: Problem[] }
    expect(off).toBeInstanceOf(ConfigError)
    expect(off.problems).toEqual(here.problems)
    expect(off.problems[0]?.line).toBe(5)
  })
})
