// The scenarios: what is requested, from which server, and the check that must pass before a
// scenario is timed. A feature that has not landed yet (identity, policies, usage accounting)
// is detected here and the scenario is skipped with the reason, never timed half-working.
import net from 'node:net'
import { request, upstreamCount } from './lib/http.js'
import { BENCH_KEY, WRONG_KEY, CLIENT_ID, CLIENT_SECRET, PREFIX, EU_REGIONS, TINY_MODEL, WORKSPACE } from './configs.js'

export const CHAT_PATH = '/v1/chat/completions'
export const SSE_PATH = '/v1/sse'
export const REQUEST_BODY = JSON.stringify({
  model: 'm',
  messages: [{ role: 'user', content: 'Say hello in one word.' }],
  max_tokens: 16,
  temperature: 0
})
/** A chat request of about 1 KB (system prompt, a few turns), for the mk3 translation A/B. */
export const KB_REQUEST_BODY = JSON.stringify({
  model: 'mk3-1k',
  messages: [
    { role: 'system', content: 'You are a concise assistant for a routing gateway. Answer in plain text. '.repeat(3).trim() },
    { role: 'user', content: 'Which region serves a caller in Germany, and why is it the lowest latency choice? '.repeat(3).trim() },
    { role: 'assistant', content: 'Frankfurt: it has the lowest round-trip time from Germany among the allowed regions. '.repeat(2).trim() },
    { role: 'user', content: 'And when Frankfurt is ejected after failures, where does the request go next, under the EU-only policy? '.repeat(2).trim() }
  ],
  max_tokens: 256,
  temperature: 0.2
})
const bearer = t => ({ 'content-type': 'application/json', authorization: `Bearer ${t}` })

// server: the child that answers (its CPU is "the proxy's"); agnet servers are `agnet:<config name>`.
export const SCENARIOS = [
  { name: 'direct', label: 'direct to the upstream (the limit)', server: 'upstream', prefix: '', expect: 200 },
  { name: 'undici-raw', label: 'raw undici proxy in node:http (the Node floor)', server: 'undici-raw', expect: 200 },
  { name: 'fastify-min', label: 'bare Fastify 5 + @fastify/http-proxy', server: 'fastify-min', expect: 200 },
  { name: 'agnet-open', label: 'agnet, open (no auth)', server: 'agnet:open', expect: 200, agnet: true },
  { name: 'agnet-open-nolog', label: 'agnet, open, access log off', server: 'agnet:open-nolog', expect: 200, agnet: true },
  { name: 'agnet-key', label: 'agnet + API key', server: 'agnet:key', expect: 200, agnet: true, auth: 'key' },
  { name: 'agnet-jwt', label: 'agnet + issued JWT', server: 'agnet:jwt', expect: 200, agnet: true, auth: 'jwt' },
  { name: 'agnet-policies', label: 'agnet + key + location/flavor policies, latency routing (4 regions × 3)', server: 'agnet:policies', expect: 200, agnet: true, auth: 'key', policies: true },
  { name: 'agnet-models-1000', label: 'agnet + key + policies, 1,000 models', server: 'agnet:models-1000', expect: 200, agnet: true, auth: 'key', policies: true },
  { name: 'agnet-full-memory', label: 'agnet + key + policies + maxToken (memory)', server: 'agnet:full-memory', expect: 200, agnet: true, auth: 'key', policies: true, tokens: 'memory' },
  { name: 'agnet-full-redis', label: 'agnet + key + policies + maxToken (Redis)', server: 'agnet:full-redis', expect: 200, agnet: true, auth: 'key', policies: true, tokens: 'redis' },
  { name: 'agnet-401', label: 'agnet, the 401 path (unknown key)', server: 'agnet:key', expect: 401, agnet: true, auth: 'wrong' },
  { name: 'agnet-scale', label: 'agnet + API key, 10,000 workspaces × 10 models, 100,000 keys', server: 'agnet:scale', expect: 200, agnet: true, auth: 'key' }
]

export const scenarioNames = () => SCENARIOS.map(s => s.name)

export function chatUrl (env, s) {
  return `${env.urls.get(s.server)}${s.prefix ?? PREFIX}${CHAT_PATH}`
}

/** Request headers of a scenario (every scenario sends a bearer, so the bytes are comparable). */
export function headersOf (env, s) {
  if (s.auth === 'jwt') return bearer(env.jwt)
  if (s.auth === 'wrong') return bearer(WRONG_KEY)
  return bearer(BENCH_KEY)
}

async function expectOk (env, s, url, headers, n = 3) {
  const before = await upstreamCount(env.upstreamUrl)
  for (let i = 0; i < n; i++) {
    const r = await request(url, { method: 'POST', headers, body: REQUEST_BODY })
    if (r.status !== 200) return `expected 200, got ${r.status}: ${r.body.slice(0, 200)}`
    if (r.body !== env.referenceBody) return `the body differs from the upstream's: ${r.body.slice(0, 200)}`
    if (!String(r.headers['content-type']).startsWith('application/json')) return `content-type ${r.headers['content-type']}`
    if (s.agnet && r.headers['x-request-id'] === undefined) return 'no X-Request-Id decision header'
    if (s.policies) {
      const region = r.headers['x-agnet-region']
      if (region === undefined) return 'no X-Agnet-Region decision header'
      if (!EU_REGIONS.includes(region)) return `policies not applied yet: served from ${region}, the policies allow only ${EU_REGIONS.join(', ')}`
    }
  }
  const seen = await upstreamCount(env.upstreamUrl) - before
  if (seen !== n) return `the upstream saw ${seen} requests for ${n} sent`
  return null
}

async function expectStatus (env, url, headers, status, what) {
  const before = await upstreamCount(env.upstreamUrl)
  const r = await request(url, { method: 'POST', headers, body: REQUEST_BODY })
  const seen = await upstreamCount(env.upstreamUrl) - before
  if (r.status !== status) return `identity not enforced yet: ${what} answered ${r.status}, expected ${status}`
  if (seen !== 0) return `${what} reached the upstream`
  return null
}

function reachable (port, host = '127.0.0.1') {
  return new Promise(resolve => {
    const s = net.connect(port, host)
    s.setTimeout(1000, () => { s.destroy(); resolve(false) })
    s.once('connect', () => { s.end(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

async function redisKeys (prefix) {
  const { default: Redis } = await import('ioredis')
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await r.connect()
    const [, keys] = await r.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000)
    return keys
  } finally { r.disconnect() }
}

export async function deleteRedisKeys (prefix) {
  const { default: Redis } = await import('ioredis')
  const r = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 })
  try {
    await r.connect()
    let cursor = '0'
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await r.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } catch { /* best effort */ } finally { r.disconnect() }
}

/** Gets an access token from agnet's issuer; null + reason when the issuer is not there. */
async function issueToken (base) {
  const r = await request(`${base}/v0/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: CLIENT_ID, client_secret: CLIENT_SECRET })
  })
  if (r.status !== 200) return { token: null, reason: `POST /v0/oauth/token answered ${r.status} (the issuer has not landed yet)` }
  try {
    const token = JSON.parse(r.body).access_token
    if (typeof token !== 'string' || token.split('.').length !== 3) return { token: null, reason: 'POST /v0/oauth/token returned no JWT access_token' }
    return { token, reason: null }
  } catch { return { token: null, reason: 'POST /v0/oauth/token returned no JSON' } }
}

/** null when the scenario answers correctly and its feature is really on; else why not. */
export async function checkScenario (env, s) {
  const url = chatUrl(env, s)
  if (s.server.startsWith('agnet:') && !env.urls.has(s.server)) return env.startFailures.get(s.server) ?? 'its agnet server did not start'
  if (s.auth === 'jwt') {
    const { token, reason } = await issueToken(env.urls.get(s.server))
    if (token === null) return reason
    env.jwt = token
    const [h, p] = token.split('.')
    const bad = await expectStatus(env, url, bearer(`${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`), 401, 'a JWT with a bad signature')
    if (bad !== null) return bad
  }
  if (s.auth === 'key' || s.auth === 'jwt' || s.auth === 'wrong') {
    const none = await expectStatus(env, url, { 'content-type': 'application/json' }, 401, 'a request without credential')
    if (none !== null) return none
    const wrong = await expectStatus(env, url, bearer(WRONG_KEY), 401, 'an unknown key')
    if (wrong !== null) return wrong
  }
  if (s.auth === 'wrong') {
    const r = await request(url, { method: 'POST', headers: bearer(WRONG_KEY), body: REQUEST_BODY })
    if (r.headers['x-blaxel-error-code'] !== 'AUTHENTICATION_FAILED') return `the 401 carries X-Blaxel-Error-Code ${r.headers['x-blaxel-error-code']}, expected AUTHENTICATION_FAILED`
    if (r.body.includes(WRONG_KEY)) return 'the 401 body echoes the key'
    return null
  }
  if (s.tokens === 'redis' && !await reachable(6379)) return 'no Redis at 127.0.0.1:6379'
  const bad = await expectOk(env, s, url, headersOf(env, s))
  if (bad !== null) return bad
  if (s.tokens !== undefined) {
    // 1 token a month: the first request crosses the cap and completes, the next gets 429
    const tiny = url.replace(PREFIX, `/${WORKSPACE}/models/${TINY_MODEL}`)
    const first = await request(tiny, { method: 'POST', headers: headersOf(env, s), body: REQUEST_BODY })
    const second = await request(tiny, { method: 'POST', headers: headersOf(env, s), body: REQUEST_BODY })
    if (first.status !== 200 && first.status !== 429) return `the capped model answered ${first.status} to its first request`
    if (second.status !== 429) return `maxToken accounting not enforced yet: a model over its cap answered ${second.status}, expected 429`
    if (s.tokens === 'redis') {
      const keys = await redisKeys(env.redisPrefix)
      if (keys.length === 0) return `no counter under "${env.redisPrefix}" in Redis: usage is not stored there yet`
    }
  }
  return null
}
