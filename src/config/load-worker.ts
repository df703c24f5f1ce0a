// Runs loadConfig on a worker thread for load-off-thread.ts: the YAML documents of a big
// config (tens of times the file's size in memory) are built and dropped in this thread's
// heap, which goes away with it; only the validated input crosses back.
import { parentPort, workerData } from 'node:worker_threads'
import { ConfigError, loadConfig } from './load.js'
import { errorMessage, isRecord } from './parsed.js'

const source: unknown = isRecord(workerData) ? workerData.source : undefined
try {
  if (typeof source !== 'string') throw new Error('the config worker needs { source } as its workerData')
  const loaded = loadConfig(source, { env: process.env })
  parentPort?.postMessage({ ok: true, input: loaded.input, files: loaded.files })
} catch (err) {
  if (err instanceof ConfigError) parentPort?.postMessage({ ok: false, problems: err.problems })
  else parentPort?.postMessage({ ok: false, message: errorMessage(err) })
}
