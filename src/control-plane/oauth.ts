// The token issuer's HTTP surface beside the control plane: POST /oauth/token, discovery and JWKS,
// under /v0 (BL_API_URL), /api (@blaxel/core's initialize({proxy})) and at the root.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ConfigStore } from '../config/store.js'
import type { IdentityServices } from '../auth/authenticate.js'
import { isRecord } from './parsed.js'

const PREFIXES = ['', '/v0', '/api'] as const
const MAX_TOKEN_BODY = 64 * 1024

function baseUrl (req: FastifyRequest, store: ConfigStore): string {
  const configured = store.current.server.publicUrl
  if (configured !== null) return configured.replace(/\/+$/, '')
  const host = typeof req.headers.host === 'string' && /^[A-Za-z0-9.:[\]-]{1,255}$/.test(req.headers.host) ? req.headers.host : `localhost:${store.current.server.port}`
  return `http://${host}`
}

export function registerIdentityRoutes (fastify: FastifyInstance, store: ConfigStore, identity: IdentityServices): void {
  // Encapsulated: the form parser is for the token endpoint only.
  void fastify.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: MAX_TOKEN_BODY }, (_req, body, done) => {
      const out: Record<string, string> = {}
      for (const [k, v] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) out[k] = v
      done(null, out)
    })
    // Body problems (bad JSON, wrong type, too large) still answer in the OAuth shape.
    scope.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
      const status = err.statusCode === 413 || err.statusCode === 415 ? err.statusCode : 400
      void reply.code(status).headers({ 'cache-control': 'no-store' }).send({ error: 'invalid_request', error_description: status === 413 ? 'The request body is too large.' : status === 415 ? 'Send application/json or application/x-www-form-urlencoded.' : 'The request body could not be parsed.' })
    })
    const token = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const raw = req.body
      const body = isRecord(raw) ? raw : {}
      const auth = req.headers.authorization
      const answer = await identity.issuer.token(store.current, { authorization: typeof auth === 'string' ? auth : undefined, body })
      return await reply.code(answer.status).headers(answer.headers).send(answer.body)
    }
    for (const p of PREFIXES) {
      scope.post(`${p}/oauth/token`, { bodyLimit: MAX_TOKEN_BODY }, token)
      scope.get(`${p}/.well-known/openid-configuration`, async (req) => identity.issuer.discovery(store.current, baseUrl(req, store)))
      scope.get(`${p}/.well-known/jwks.json`, async (_req, reply) => await reply.header('cache-control', 'public, max-age=300').send(identity.issuer.jwks(store.current)))
    }
  })
}
