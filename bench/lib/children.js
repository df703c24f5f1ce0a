// Child processes of the benchmark: every server (upstream, reference proxies, agnet) runs in
// its own process, never in the load generator's event loop. Output goes to a log file (cheap
// for the child, no pipe for the generator to drain); readiness and reload lines are found by
// reading that file.
import fs from 'node:fs'
import path from 'node:path'
import { spawn, execFileSync } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

const children = new Set()

export class Child {
  constructor (name, proc, logFile) {
    this.name = name
    this.proc = proc
    this.pid = proc.pid
    this.logFile = logFile
    this.exited = null
    this.stopping = false
    proc.once('exit', (code, signal) => {
      this.exited = { code, signal }
      if (!this.stopping) process.stderr.write(`bench: ${name} (pid ${proc.pid}) exited unexpectedly: code ${code}, signal ${signal}\n`)
    })
  }

  /** Bytes written to the log so far: pass to waitFor to look only at what comes next. */
  logSize () {
    try { return fs.statSync(this.logFile).size } catch { return 0 }
  }

  /** Polls the log from `from` until a line matches; resolves with the match. */
  async waitFor (re, { from = 0, timeoutMs = 60_000, pollMs = 5 } = {}) {
    const deadline = Date.now() + timeoutMs
    let offset = from
    let pending = ''
    const fd = fs.openSync(this.logFile, 'r')
    try {
      const buf = Buffer.alloc(1 << 16)
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset)
        if (n > 0) {
          offset += n
          pending += buf.toString('utf8', 0, n)
          const lines = pending.split('\n')
          pending = lines.pop()
          for (const l of lines) {
            const m = re.exec(l)
            if (m !== null) return m
          }
          continue
        }
        if (this.exited !== null) throw new Error(`${this.name} exited (${JSON.stringify(this.exited)}) before printing ${re}; see ${this.logFile}:\n${tail(this.logFile)}`)
        if (Date.now() > deadline) throw new Error(`${this.name} did not print ${re} within ${timeoutMs} ms; see ${this.logFile}:\n${tail(this.logFile)}`)
        await sleep(pollMs)
      }
    } finally { fs.closeSync(fd) }
  }

  async stop () {
    if (this.exited !== null) return
    this.stopping = true
    const done = new Promise(resolve => this.proc.once('exit', resolve))
    this.proc.kill('SIGTERM')
    const t = setTimeout(() => { if (this.exited === null) this.proc.kill('SIGKILL') }, 5000)
    await done
    clearTimeout(t)
    children.delete(this)
  }
}

function tail (file) {
  try { return fs.readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') } catch { return '' }
}

/** Starts `node args...` with output to <dir>/<name>.log; `cpus` ("0", "1") pins it with taskset. */
export function startNode (name, args, { dir, env = {}, nodeArgs = [], cwd, cpus } = {}) {
  const logFile = path.join(dir, `${name}.log`)
  const fd = fs.openSync(logFile, 'w')
  const proc = spawn(process.execPath, [...nodeArgs, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd]
  })
  fs.closeSync(fd)
  if (cpus !== undefined) pin(proc.pid, cpus)
  const child = new Child(name, proc, logFile)
  children.add(child)
  return child
}

/** Pins a process (and the threads it starts later) to a CPU list, e.g. "0" or "1". */
export function pin (pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' })
}

export async function stopAll () {
  await Promise.all([...children].map(c => c.stop()))
}

// Never leave servers behind, whatever way the benchmark ends.
process.once('exit', () => { for (const c of children) if (c.exited === null) c.proc.kill('SIGKILL') })
for (const s of ['SIGINT', 'SIGTERM']) {
  process.once(s, () => { stopAll().finally(() => process.exit(130)) })
}
