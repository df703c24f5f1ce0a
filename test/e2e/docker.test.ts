// The container image without a Docker engine: the Dockerfile is parsed, its final stage is
// laid out in a temporary folder exactly as its COPY lines say (so a file the image forgets
// is missing here too), and its CMD and HEALTHCHECK run as they would in the container, with
// the environment the Dockerfile sets. SIGTERM to the CMD process (PID 1 in the container)
// must drain and exit 0.
import { spawn } from 'node:child_process'
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
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

interface RunAs { uid: number; gid: number; node: string }

// Every process a test starts, so one that outlives a timed-out test is still stopped.
const children = new Set<ReturnType<typeof spawn>>()
afterAll(() => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL') })

function run (argv: string[], cwd: string, env: NodeJS.ProcessEnv, as?: RunAs): Proc {
  const [cmd, ...rest] = argv
  // "node" in the image is the same Node major as the one running the tests.
  const node = as?.node ?? process.execPath
  const ids = as === undefined ? {} : { uid: as.uid, gid: as.gid }
  const child = spawn(cmd === 'node' ? node : (cmd as string), rest, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], ...ids })
  children.add(child)
  child.once('exit', () => { children.delete(child) })
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

/** The text of a README section, from its heading to the next heading of the same level. */
function section (readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`)
  if (start < 0) throw new Error(`README has no "${heading}" section`)
  const level = heading.split(' ')[0] as string
  const next = readme.indexOf(`\n${level} `, start + heading.length + 1)
  return readme.slice(start, next < 0 ? undefined : next)
}

function labelsOf (stage: Stage): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const s of stage.steps.filter(x => x.op === 'LABEL')) {
    for (const m of s.args.matchAll(/([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S+)/g)) labels[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1')
  }
  return labels
}

/** Every path under root with its size and mtime, symlinks not followed. */
function snapshot (root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      const st = lstatSync(p)
      out.set(relative(root, p), `${st.size}:${st.mtimeMs}`)
      if (e.isDirectory()) walk(p)
    }
  }
  walk(root)
  return out
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
        if (from !== null && src.replace(/\/$/, '').endsWith('node_modules')) {
          // The installed dependencies of a stage that runs `npm ci`: the repo's own stand in.
          symlinkSync(join(REPO, 'node_modules'), join(appDir, 'node_modules'))
          continue
        } else if (from !== null) {
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

  it('builds in stages and installs only production dependencies in the image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const build = stages[0] as Stage
    expect(build.steps.some(s => s.op === 'RUN' && /npm ci\b/.test(s.args))).toBe(true)
    expect(build.steps.some(s => s.op === 'RUN' && /npm run build/.test(s.args))).toBe(true)
    // node_modules comes from a stage (or is installed in the final one) with --omit=dev.
    const modulesFrom = final.steps.find(s => s.op === 'COPY' && /--from=(\S+)\s+\S*node_modules/.test(s.args))
    const depsStage = modulesFrom === undefined ? final : stages.find(x => x.name === /--from=(\S+)/.exec(modulesFrom.args)?.[1])
    const install = depsStage?.steps.find(s => s.op === 'RUN' && /npm ci\b/.test(s.args))
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


  it('states in the README the facts the Dockerfile, package.json and CI hold: base image, Node lines, user, port, labels', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
    const container = section(readme, '## Running in a container')
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; license: string; engines: { node: string }; devDependencies: Record<string, string> }
    const supported = /Supported Node\.js lines: \*\*([^*]+)\*\*/.exec(readme)?.[1] ?? ''
    const majors = (supported.match(/\d+/g) ?? []).map(Number)
    expect(majors.length).toBeGreaterThanOrEqual(2)
    const lowest = Math.min(...majors)
    const highest = Math.max(...majors)
    // One base image for every stage: the highest supported line (the Active LTS), slim.
    const base = (stages[0] as Stage).from
    for (const s of stages) expect(s.from).toBe(base)
    const image = /^node:(\d+)-([a-z]+)-slim$/.exec(base)
    expect(image, `${base} is not a node:<major>-<debian>-slim image`).not.toBeNull()
    expect(Number(image?.[1])).toBe(highest)
    expect(container).toContain(`\`${base}\``)
    // The lowest supported line is the floor of engines and of the Node types compiled against.
    expect(pkg.engines.node).toMatch(new RegExp(`^>=${lowest}\\.\\d+$`))
    expect(pkg.devDependencies['@types/node']).toMatch(new RegExp(`^\\^${lowest}\\.`))
    // CI runs the same line as the image.
    const ci = readFileSync(join(REPO, '.ci/run'), 'utf8')
    expect(/^ACTIVE_LTS=(\d+)$/m.exec(ci)?.[1]).toBe(String(highest))
    // User and port as the README says them.
    const user = final.steps.filter(s => s.op === 'USER').at(-1)?.args ?? ''
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/)
    expect(container).toContain(`\`${user}\``)
    const port = final.steps.find(s => s.op === 'EXPOSE')?.args.split(/\s+/)[0] ?? ''
    expect(imageEnv.AGNET_PORT).toBe(port)
    expect(container).toContain(`-p ${port}:${port}`)
    // OCI labels: version and licenses from package.json, source and revision from build args.
    const labels = labelsOf(final)
    expect(labels['org.opencontainers.image.version']).toBe(pkg.version)
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license)
    expect(labels['org.opencontainers.image.base.name']).toBe(`docker.io/library/${base}`)
    const args = final.steps.filter(s => s.op === 'ARG').map(s => s.args.split('=')[0])
    expect(labels['org.opencontainers.image.source']).toBe('${SOURCE}')
    expect(labels['org.opencontainers.image.revision']).toBe('${REVISION}')
    expect(args).toEqual(expect.arrayContaining(['SOURCE', 'REVISION']))
    for (const key of Object.keys(labels)) expect(container).toContain(key.replace('org.opencontainers.image', ''))
    expect(container).toContain('org.opencontainers.image.version')
    // The license the labels name is the one shipped, in the repo and in the image.
    expect(pkg.license).toBe('Apache-2.0')
    const license = readFileSync(join(REPO, 'LICENSE'), 'utf8')
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/)
    expect(license).toContain('END OF TERMS AND CONDITIONS')
    expect(existsSync(join(appDir, 'LICENSE'))).toBe(true)
  })

  it('keeps in the runtime image only what the process needs', () => {
    const copied = final.steps.filter(s => s.op === 'COPY').map(s => s.args.split(/\s+/).filter(p => !p.startsWith('--'))[0] as string)
    expect(copied.sort()).toEqual(['/app/dist', '/app/node_modules', 'LICENSE', 'config', 'package.json', 'src/playground/static'].sort())
    // The base image's package managers are removed, and nothing runs npm after that.
    const runs = final.steps.filter(s => s.op === 'RUN').map(s => s.args)
    const removal = runs.find(r => r.includes('rm -rf')) ?? ''
    for (const tool of ['/usr/local/lib/node_modules', '/usr/local/bin/npm', '/usr/local/bin/npx', '/usr/local/bin/corepack', '/usr/local/bin/yarn']) expect(removal).toContain(tool)
    expect(runs.filter(r => /\bnpm\b/.test(r.replace(removal, '')))).toEqual([])
    // No file the process does not read: sources, tests and lock files stay out.
    for (const absent of ['src/config', 'test', 'package-lock.json', 'tsconfig.json', 'schema']) expect(existsSync(join(appDir, absent)), absent).toBe(false)
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
        // The image's files are read-only to its user: the demo writes no shell file there.
        expect(server.output()).not.toContain('demo.env')
        expect(existsSync(join(appDir, '.agnet'))).toBe(false)
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

    it('runs as the image\'s user on a read-only root: serves, reloads and drains without writing a file', async () => {
      const [uid, gid] = (final.steps.filter(s => s.op === 'USER').at(-1)?.args ?? '').split(':').map(Number) as [number, number]
      const mount = join(imageRoot, 'etc/agnet-ro')
      mkdirSync(mount, { recursive: true })
      const yaml = (region: string): string => `
workspaces:
  - name: ro
    integrations: [{ name: oai, provider: openai, baseUrl: "mock://", apiKey: "k" }]
    models:
      - { name: m, runtime: { type: openai, model: gpt-4o-mini }, integrationConnections: [oai], deployments: [{ region: ${region} }] }
`
      writeFileSync(join(mount, 'agnet.yaml'), yaml('eu-lon-1'))
      // As root here, the process runs as the image's numeric user over files it may not
      // write (in the image they belong to root); its node binary is laid out in the image too.
      let as: RunAs | undefined
      if (process.getuid?.() === 0) {
        const node = join(imageRoot, 'usr/local/bin/node')
        mkdirSync(dirname(node), { recursive: true })
        cpSync(process.execPath, node)
        as = { uid, gid, node }
        const walk = (p: string): void => {
          const st = lstatSync(p)
          if (st.isSymbolicLink()) return
          chmodSync(p, st.isDirectory() || (st.mode & 0o111) !== 0 ? 0o555 : 0o444)
          if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e))
        }
        walk(imageRoot)
        chmodSync(mount, 0o755)
      }
      const before = snapshot(imageRoot)
      const home = join(imageRoot, 'home/node')
      const server = run(cmd, appDir, { ...env, HOME: home, TMPDIR: join(imageRoot, 'tmp'), AGNET_CONFIG: mount }, as)
      try {
        await server.waitFor(/agnet listening/)
        expect(await run(health, appDir, env, as).exited).toBe(0)
        const ask = async (): Promise<string | null> => {
          const res = await fetch(`http://127.0.0.1:${port}/ro/models/m/v1/chat/completions`, { method: 'POST', body: '{"messages":[{"role":"user","content":"x"}]}' })
          await res.text()
          return res.headers.get('x-agnet-region')
        }
        expect(await ask()).toBe('eu-lon-1')
        // The mounted config is the only thing that changes, and not by the process.
        if (as !== undefined) chmodSync(join(mount, 'agnet.yaml'), 0o644)
        writeFileSync(join(mount, 'agnet.yaml'), yaml('eu-fra-1'))
        if (as !== undefined) chmodSync(join(mount, 'agnet.yaml'), 0o444)
        await server.waitFor(/config reloaded/)
        expect(await ask()).toBe('eu-fra-1')
      } finally {
        server.kill('SIGTERM')
      }
      expect(await server.exited).toBe(0)
      expect(server.output()).not.toMatch(/EACCES|EROFS|EPERM/)
      const after = snapshot(imageRoot)
      const changed = [...after].filter(([p, v]) => before.get(p) !== v && !p.startsWith('etc/agnet-ro')).map(([p]) => p)
      expect(changed).toEqual([])
    }, 60_000)

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
