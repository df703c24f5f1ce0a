// The README's shell examples, as a new user runs them: `npm start` in one terminal, then every
// ```sh block pasted in order into one fresh bash in the repository folder. A block fails the
// test when a command in it fails, or when an HTTP answer it prints is an error. Blocks marked
// ```sh no-test are not run (the start itself, container and replica commands, development
// commands). Two substitutions keep the run off shared resources: the port (8080 may be taken
// on a CI machine) and the demo's credential file (other tests start demos too).
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/net.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const README = readFileSync(join(REPO, 'README.md'), 'utf8')

interface Example { index: number; line: number; code: string }

/** The ```sh blocks of a Markdown text, in order, without the ones marked no-test. */
function shellExamples (markdown: string): Example[] {
  const out: Example[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i] as string)
    if (open === null) continue
    const start = i
    const body: string[] = []
    for (i++; i < lines.length && !(lines[i] as string).startsWith('```'); i++) body.push(lines[i] as string)
    const words = (open[2] ?? '').trim().split(/\s+/)
    if (open[1] === 'sh' && !words.includes('no-test')) out.push({ index: out.length, line: start + 1, code: body.join('\n') })
  }
  return out
}

/** One long-lived bash, fed blocks one at a time, like a terminal. */
class Terminal {
  private readonly child: ChildProcess
  private out = ''
  private err = ''
  private waiter: (() => void) | null = null
  constructor (env: NodeJS.ProcessEnv) {
    this.child = spawn('bash', ['--noprofile', '--norc'], { cwd: REPO, env, stdio: ['pipe', 'pipe', 'pipe'] })
    this.child.stdout?.on('data', d => { this.out += String(d); this.waiter?.() })
    this.child.stderr?.on('data', d => { this.err += String(d); this.waiter?.() })
    // A failing command anywhere in a block, not only its last one, is reported.
    this.child.stdin?.write('trap \'echo "__FAILED__ line $LINENO: $BASH_COMMAND" >&2\' ERR\n')
  }

  async run (code: string, id: number): Promise<{ stdout: string; stderr: string; status: number }> {
    const marker = `__BLOCK_${id}_DONE__`
    const from = { out: this.out.length, err: this.err.length }
    this.child.stdin?.write(`${code}\necho "${marker} $?"; echo "${marker}" >&2\n`)
    const done = new RegExp(`${marker} (\\d+)\\n`)
    while (!(done.test(this.out.slice(from.out)) && this.err.slice(from.err).includes(marker))) {
      if (this.child.exitCode !== null) throw new Error(`the shell exited:\n${this.out}\n${this.err}`)
      await new Promise<void>(resolve => { this.waiter = resolve })
    }
    const stdout = this.out.slice(from.out)
    const status = Number(done.exec(stdout)?.[1])
    return { stdout: stdout.replace(done, ''), stderr: this.err.slice(from.err).replace(`${marker}\n`, ''), status }
  }

  close (): void { this.child.stdin?.end('exit\n') }
}

let server: ChildProcess
let serverOut = ''
let port = 0
let envFile = ''
const hadExpect = existsSync(join(REPO, 'expect.yaml'))

/** What a fresh login shell has: no AGNET_*, BL_* or other test variables. */
function freshEnv (): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C.UTF-8', TERM: 'dumb' }
}

beforeAll(async () => {
  port = await freePort()
  envFile = join(mkdtempSync(join(tmpdir(), 'agnet-readme-')), 'demo.env')
  server = spawn('npm', ['start'], { cwd: REPO, env: { ...freshEnv(), AGNET_PORT: String(port), AGNET_DEMO_ENV_FILE: envFile }, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  await new Promise<void>((resolve, reject) => {
    const check = (d: unknown): void => {
      serverOut += String(d)
      if (serverOut.includes('agnet is serving the embedded demo')) resolve()
    }
    server.stdout?.on('data', check)
    server.stderr?.on('data', check)
    server.once('exit', code => { reject(new Error(`npm start exited ${String(code)}:\n${serverOut}`)) })
  })
}, 180_000)

afterAll(async () => {
  if (server?.pid !== undefined && server.exitCode === null) {
    const exited = new Promise(resolve => server.once('exit', resolve))
    process.kill(-server.pid, 'SIGTERM')
    await exited
  }
  if (!hadExpect) rmSync(join(REPO, 'expect.yaml'), { force: true })
})

describe('README examples, pasted in order into a fresh shell after npm start', () => {
  const examples = shellExamples(README)

  it('has examples to run, and marks the start itself as not run here', () => {
    expect(examples.length).toBeGreaterThanOrEqual(5)
    expect(README).toMatch(/```sh no-test\nnpm ci && npm start/)
    expect(examples[0]?.code).toMatch(/^source \.agnet\/demo\.env/)
  })

  it('npm start prints what the README says it prints', () => {
    expect(serverOut).toMatch(/demo API key \(generated; set AGNET_DEMO_KEY to choose it\): agnet_demo_/)
    expect(serverOut).toContain(`source ${envFile}`)
    expect(serverOut).toMatch(new RegExp(`BL_API_URL=http://localhost:${port}/v0 BL_RUN_URL=http://localhost:${port}`))
    expect(serverOut).toMatch(/PYTHONPATH=\S+\/python /)
  })

  it('every block succeeds, and no HTTP answer it prints is an error', async () => {
    const term = new Terminal(freshEnv())
    try {
      for (const ex of examples) {
        const code = ex.code.replaceAll('localhost:8080', `localhost:${port}`).replaceAll('.agnet/demo.env', envFile)
        const r = await term.run(code, ex.index)
        const where = `README.md:${ex.line}\n${ex.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`
        expect(r.stderr, where).not.toContain('__FAILED__')
        expect(r.status, where).toBe(0)
        for (const m of r.stdout.matchAll(/^HTTP\/1\.1 (\d{3})/gm)) expect(Number(m[1]), where).toBeLessThan(400)
        expect(r.stdout, where).not.toMatch(/"error":\{"code":"/)
        if (/gpt-4o-mini-capped/.test(ex.code)) {
          // The capped model's loop: some answers pass, then the budget refuses.
          const codes = r.stdout.trim().split(/\s+/)
          expect(codes.every(c => c === '200' || c === '429'), where).toBe(true)
          expect(codes[0], where).toBe('200')
          expect(codes.at(-1), where).toBe('429')
        }
        if (/curl -si .*chat\/completions/s.test(ex.code)) expect(r.stdout, where).toMatch(/^HTTP\/1\.1 200 OK/m)
      }
    } finally { term.close() }
  }, 600_000)
})
