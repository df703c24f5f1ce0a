// The container image without a Docker engine: the Dockerfile is parsed, its final stage is
// laid out in a temporary folder exactly as its COPY lines say (so a file the image forgets
// is missing here too), and its CMD and HEALTHCHECK run as they would in the container, with
// the environment the Dockerfile sets. SIGTERM to the CMD process (PID 1 in the container)
// must drain and exit 0.
import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/net.js'

const REPO = fileURLToPath(new URL('../../', import.meta.url))

interface Instruction { op: string; args: string }
interface Stage { from: string; name: string | null; steps: Instruction[] }

function parseDockerfile (text: string): Stage[] {
  const logical = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
  const stages: Stage[] = []
  for (const line of logical) {
    const m = /^([A-Z]+)\s+(.*)$/.exec(line)
    if (m === null) throw new Error(`unparsed Dockerfile line: ${line}`)
    const [, op, args] = m as unknown as [string, string, string]
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      stages.push({ from: f?.[1] ?? args, name: f?.[2] ?? null, steps: [] })
    } else {
      const stage = stages.at(-1)
      if (stage === undefined) throw new Error(`${op} before FROM`)
      stage.steps.push({ op, args })
    }
  }
  return stages
}

function envOf (stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const s of stage.steps.filter(x => x.op === 'ENV')) {
    for (const m of s.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S+)/g)) env[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1')
  }
  return env
}

function execForm (args: string): string[] {
  const parsed = JSON.parse(args) as unknown
  if (!Array.isArray(parsed) || !parsed.every(x => typeof x === 'string')) throw new Error(`not an exec-form array: ${args}`)
  return parsed as string[]
}

interface Proc { exited: Promise<number | null>; output: () => string; waitFor: (re: RegExp) => Promise<void>; kill: (sig: NodeJS.Signals) => void }

function run (argv: string[], cwd: string, env: NodeJS.ProcessEnv): Proc {
  const [cmd, ...rest] = argv
  // "node" in the image is the same Node major as the one running the tests.
  const child = spawn(cmd === 'node' ? process.execPath : (cmd as string), rest, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const waiters: Array<{ re: RegExp; resolve: () => void }> = []
  const onData = (d: Buffer): void => {
    out += d.toString()
    for (const w of [...waiters]) if (w.re.test(out)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<number | null>(resolve => { child.once('exit', code => { resolve(code) }) })
  return {
    exited,
    output: () => out,
    waitFor: async re => {
      if (re.test(out)) return
      await new Promise<void>((resolve, reject) => {
        waiters.push({ re, resolve })
        void exited.then(() => { setImmediate(() => { reject(new Error(`exited before ${String(re)}:\n${out}`)) }) })
      })
    },
    kill: sig => { child.kill(sig) }
  }
}

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(REPO, 'Dockerfile'), 'utf8')
  const stages = parseDockerfile(dockerfile)
  const final = stages.at(-1) as Stage
  const imageRoot = mkdtempSync(join(tmpdir(), 'agnet-image-'))
  const workdir = (final.steps.filter(s => s.op === 'WORKDIR').at(-1)?.args ?? '/')
  const appDir = join(imageRoot, workdir)
  const imageEnv = envOf(final)
  const cmd = execForm(final.steps.find(s => s.op === 'CMD')?.args ?? 'null')
  const healthLine = final.steps.find(s => s.op === 'HEALTHCHECK')?.args ?? ''
  const health = execForm(healthLine.replace(/^.*?\bCMD\s+/, ''))

  beforeAll(() => {
    if (!existsSync(join(REPO, 'dist/cli/main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)')
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8').split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('#'))
    mkdirSync(appDir, { recursive: true })
    for (const s of final.steps) {
      if (s.op === 'COPY') {
        const parts = s.args.split(/\s+/)
        const from = parts.find(p => p.startsWith('--from='))?.slice(7) ?? null
        const [src, dest] = parts.filter(p => !p.startsWith('--')) as [string, string]
        let source: string
        if (from !== null) {
          // The build stage compiles /app (its WORKDIR) from the same sources: dist/ is the repo's.
          const buildStage = stages.find(x => x.name === from)
          const buildWorkdir = buildStage?.steps.filter(x => x.op === 'WORKDIR').at(-1)?.args ?? '/'
          source = join(REPO, relative(buildWorkdir, src))
        } else {
          const top = src.split('/')[0] as string
          expect(ignored, `${src} is copied but excluded by .dockerignore`).not.toContain(top)
          source = join(REPO, src)
        }
        const target = dest.startsWith('/') ? join(imageRoot, dest) : join(appDir, dest)
        const isDir = statSync(source).isDirectory()
        if (!isDir && dest.endsWith('/')) { mkdirSync(target, { recursive: true }); cpSync(source, join(target, src.split('/').at(-1) as string)) } else { mkdirSync(dirname(target), { recursive: true }); cpSync(source, target, { recursive: true }) }
      } else if (s.op === 'RUN' && /npm ci\b/.test(s.args)) {
        symlinkSync(join(REPO, 'node_modules'), join(appDir, 'node_modules'))
      }
    }
  })

  it('builds in stages from node:20-bookworm-slim and installs only production dependencies in the image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const s of stages) expect(s.from).toBe('node:20-bookworm-slim')
    const build = stages[0] as Stage
    expect(build.steps.some(s => s.op === 'RUN' && /npm ci\b/.test(s.args))).toBe(true)
    expect(build.steps.some(s => s.op === 'RUN' && /npm run build/.test(s.args))).toBe(true)
    const install = final.steps.find(s => s.op === 'RUN' && /npm ci\b/.test(s.args))
    expect(install?.args).toMatch(/--omit=dev/)
    expect(final.steps.some(s => s.op === 'COPY' && s.args.includes('--from=') && s.args.includes('dist'))).toBe(true)
    // Everything the compiled code imports must be a production dependency.
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const files: string[] = []
    const walk = (d: string): void => { for (const e of readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(join(d, e.name)); else if (e.name.endsWith('.js')) files.push(join(d, e.name)) } }
    walk(join(REPO, 'dist'))
    const bare = new Set<string>()
    for (const f of files) {
      for (const m of readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"./][^'"]*)['"]|import\(\s*['"]([^'"./][^'"]*)['"]\s*\)/g)) {
        const spec = (m[1] ?? m[2]) as string
        if (spec.startsWith('node:')) continue
        bare.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] as string)
      }
    }
    expect([...bare].filter(p => pkg.dependencies[p] === undefined)).toEqual([])
  })

  it('runs as a non-root user, exposes 8080, and starts node directly as PID 1 (exec form)', () => {
    const user = final.steps.filter(s => s.op === 'USER').at(-1)?.args
    expect(user).toBeDefined()
    expect(['root', '0']).not.toContain(user?.split(':')[0])
    expect(final.steps.some(s => s.op === 'EXPOSE' && s.args.split(/\s+/).includes('8080'))).toBe(true)
    expect(final.steps.some(s => s.op === 'ENTRYPOINT')).toBe(false)
    expect(cmd[0]).toBe('node')
    expect(cmd.slice(1)).toEqual(['dist/cli/main.js', 'serve'])
    expect(health.slice(1)).toEqual(['dist/cli/main.js', 'healthcheck'])
    expect(imageEnv.AGNET_PORT).toBe('8080')
    expect(dockerfile).toContain('/etc/agnet')
  })

  describe('the image started as `docker run` would', () => {
    let port: number
    let env: NodeJS.ProcessEnv
    beforeAll(async () => {
      port = await freePort()
      // The container's port, remapped so parallel tests on one machine do not collide.
      env = { PATH: process.env.PATH, HOME: imageRoot, ...imageEnv, AGNET_HOST: '127.0.0.1', AGNET_PORT: String(port) }
    })
    afterAll(() => {})

    const healthcheck = async (e: NodeJS.ProcessEnv): Promise<number | null> => await run(health, appDir, e).exited

    it('serves the embedded demo, passes its health check, serves the playground, and exits 0 on SIGTERM', async () => {
      expect(await healthcheck(env)).toBe(1)
      const server = run(cmd, appDir, env)
      try {
        await server.waitFor(/agnet listening/)
        expect(await healthcheck(env)).toBe(0)
        const page = await fetch(`http://127.0.0.1:${port}/playground`)
        expect(page.status).toBe(200)
        await page.text()
        const metrics = await fetch(`http://127.0.0.1:${port}/metrics`)
        expect(await metrics.text()).toContain('agnet_requests_total')
        const key = /demo API key[^:]*: (\S+)/.exec(server.output())?.[1]
        expect(key).toBeDefined()
        const res = await fetch(`http://127.0.0.1:${port}/demo/models/gpt-4o-mini/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-blaxel-authorization': `Bearer ${key ?? ''}` },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
        })
        expect(res.status).toBe(200)
        await res.text()
      } finally {
        server.kill('SIGTERM')
      }
      expect(await server.exited).toBe(0)
      expect(server.output()).toContain('shutting down')
    })

    it('reads a config mounted at /etc/agnet through AGNET_CONFIG', async () => {
      const mount = join(imageRoot, 'etc/agnet')
      mkdirSync(mount, { recursive: true })
      writeFileSync(join(mount, 'agnet.yaml'), `
workspaces:
  - name: mounted
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "k" }]
    models:
      - { name: m, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: eu-lon-1 }] }
`)
      const server = run(cmd, appDir, { ...env, AGNET_CONFIG: mount })
      try {
        await server.waitFor(/agnet listening/)
        expect(await healthcheck(env)).toBe(0)
        const res = await fetch(`http://127.0.0.1:${port}/mounted/models/m/v1/chat/completions`, { method: 'POST', body: '{"messages":[{"role":"user","content":"x"}]}' })
        expect(res.headers.get('x-agnet-region')).toBe('eu-lon-1')
        await res.text()
      } finally {
        server.kill('SIGTERM')
      }
      expect(await server.exited).toBe(0)
    })
  })
})
