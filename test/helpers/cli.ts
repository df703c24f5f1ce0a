// Runs the built CLI (dist/) as a user would, as a child process.
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface Spawned {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** Resolves with the first stdout/stderr text matching `re`. */
  waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>
  exited: Promise<number | null>
}

export function spawnCli (args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const waiters: Array<{ re: RegExp; resolve: (m: RegExpMatchArray) => void }> = []
  const check = (): void => {
    for (const w of [...waiters]) {
      const m = (out + err).match(w.re)
      if (m !== null) { waiters.splice(waiters.indexOf(w), 1); w.resolve(m) }
    }
  }
  child.stdout?.on('data', d => { out += String(d); check() })
  child.stderr?.on('data', d => { err += String(d); check() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: async (re, timeoutMs = 20_000) => await new Promise((resolve, reject) => {
      const m = (out + err).match(re)
      if (m !== null) { resolve(m); return }
      waiters.push({ re, resolve })
      const t = setTimeout(() => { reject(new Error(`timed out waiting for ${String(re)}; output:\n${out}\n${err}`)) }, timeoutMs)
      t.unref()
      void exited.then(() => { setImmediate(() => { reject(new Error(`process exited before ${String(re)}; output:\n${out}\n${err}`)) }) })
    })
  }
}

export async function runCli (args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = spawnCli(args, env)
  const code = await s.exited
  return { code, stdout: s.stdout(), stderr: s.stderr() }
}
