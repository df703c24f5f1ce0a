// GET /playground: a static page and its small script, read once at start-up and served from
// memory. No build step and nothing from a CDN: the page works offline and in CI. The files
// live in src/playground/static (shipped as they are; tsc does not copy them), found from
// both src/ (tests) and dist/ (the built CLI) by the same relative URL.
import { readFileSync } from 'node:fs'
import type { FastifyInstance, FastifyReply } from 'fastify'

const STATIC_DIR = new URL('../../src/playground/static/', import.meta.url)

interface Asset { readonly body: Buffer; readonly type: string }

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8'
}

// Only this page's own files run: no inline script, no third-party origin, no framing.
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache'
}

function load (name: string): Asset {
  const ext = name.slice(name.lastIndexOf('.') + 1)
  return { body: readFileSync(new URL(name, STATIC_DIR)), type: TYPES[ext] ?? 'application/octet-stream' }
}

export function registerPlayground (fastify: FastifyInstance): void {
  const page = load('index.html')
  const assets = new Map<string, Asset>([
    ['playground.js', load('playground.js')],
    ['playground.css', load('playground.css')]
  ])
  const sendPage = async (_req: unknown, reply: FastifyReply): Promise<void> => {
    await reply.headers(SECURITY_HEADERS).type(page.type).send(page.body)
  }
  // A browser pointed at the gateway's root lands on the playground; API clients see the redirect.
  fastify.get('/', async (_req, reply) => { await reply.redirect('/playground', 302) })
  fastify.get('/playground', sendPage)
  fastify.get('/playground/', sendPage)
  fastify.get<{ Params: { file: string } }>('/playground/:file', async (req, reply) => {
    const asset = assets.get(req.params.file)
    if (asset === undefined) return await reply.callNotFound()
    return await reply.headers(SECURITY_HEADERS).type(asset.type).send(asset.body)
  })
}
