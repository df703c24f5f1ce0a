// Loads a big config without stalling the event loop. Parsing and validating YAML is most of
// the time a reload takes (about 20 s for a 24 MB config of 10,000 workspaces) and leaves
// hundreds of MB of garbage behind: done on the event loop, every request waits that long and
// the first major collection afterwards lands on live traffic. A config of
// OFF_THREAD_MIN_BYTES or more is therefore loaded on a worker thread, whose heap goes away
// with it; smaller ones load in place, where a worker's start-up would cost more than it saves.
// Problems found later, when the input is compiled, need source positions: those are found
// by loading again in place, which only happens for a config that is being refused.
import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { Worker } from 'node:worker_threads'
import { ConfigError, loadConfig, type ConfigProblem, type LoadedConfig, type LoadOptions } from './load.js'
import { listYamlFiles } from './yaml-files.js'
import type { ConfigInput } from './schema.js'

export const OFF_THREAD_MIN_BYTES = 1024 * 1024

const WORKER = new URL('./load-worker.js', import.meta.url)

/** Total size of the config's YAML files; 0 when they cannot be listed (loadConfig reports why). */
export function configBytes (source: string): number {
  try {
    const root = resolve(source)
    if (!statSync(root).isDirectory()) return statSync(root).size
    const files: string[] = []
    listYamlFiles(root, files)
    let total = 0
    for (const f of files) total += statSync(f).size
    return total
  } catch {
    return 0
  }
}

type Answer = { ok: true, input: ConfigInput, files: string[] } | { ok: false, problems?: ConfigProblem[], message?: string }

/** loadConfig, on a worker thread when the config is big (and the worker script is built). */
export async function loadConfigOffThread (source: string, opts: LoadOptions = {}, minBytes = OFF_THREAD_MIN_BYTES): Promise<LoadedConfig> {
  // Run from sources (tests), the worker script does not exist as .js: load in place.
  if (configBytes(source) < minBytes || !existsSync(WORKER)) return loadConfig(source, opts)
  const answer = await new Promise<Answer>((resolveAnswer, reject) => {
    const worker = new Worker(WORKER, { workerData: { source }, env: opts.env ?? process.env })
    let settled = false
    worker.once('message', (m: Answer) => { settled = true; resolveAnswer(m) })
    worker.once('error', err => { settled = true; reject(err) })
    worker.once('exit', code => { if (!settled) reject(new Error(`the config loader thread exited with code ${code}`)) })
  })
  if (!answer.ok) {
    if (answer.problems !== undefined) throw new ConfigError(answer.problems)
    throw new Error(answer.message ?? 'the config loader thread failed')
  }
  let inPlace: LoadedConfig | null = null
  return {
    input: answer.input,
    files: answer.files,
    source,
    locate: path => (inPlace ??= loadConfig(source, opts)).locate(path)
  }
}
