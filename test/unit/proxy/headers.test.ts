// Header hygiene, both ways: a client credential never reaches an upstream, agnet's own
// headers cannot be forged by either side, and hop-by-hop headers stop at the gateway.
import { describe, expect, it } from 'vitest'
import { buildResponseHeaders, buildUpstreamHeaders } from '../../../src/proxy/headers.js'

/** Upstream headers for a client sending `raw`, with the deployment's `set` and `defaults`. */
function upstream (raw: string[], opts: { connection?: string; set?: string[]; defaults?: string[]; host?: string; ownBody?: boolean } = {}): string[][] {
  const flat = buildUpstreamHeaders(raw, opts.connection, opts.set ?? [], opts.defaults ?? [], '10.0.0.9', opts.host, 'req-1', opts.ownBody)
  const pairs: string[][] = []
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i] ?? '', flat[i + 1] ?? ''])
  return pairs
}

const FORWARDING = [['x-forwarded-for', '10.0.0.9'], ['x-forwarded-proto', 'http'], ['x-request-id', 'req-1']]

describe('buildUpstreamHeaders', () => {
  it.each([
    'Authorization', 'X-Blaxel-Authorization', 'x-blaxel-api-key', 'X-Api-Key', 'x-goog-api-key', 'api-key', 'Cookie',
    'Proxy-Authorization', 'X-Blaxel-Workspace', 'Blaxel-Version', 'Connection', 'Keep-Alive', 'Transfer-Encoding', 'TE',
    'Trailer', 'Upgrade', 'Host', 'Expect', 'X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'X-Request-Id', 'X-Agnet-Origin', 'x-agnet-anything'
  ])('drops the client\'s %s', (name) => {
    expect(upstream([name, 'client-value', 'content-type', 'application/json'])).toEqual([['content-type', 'application/json'], ...FORWARDING])
  })

  it('drops the client\'s body headers when agnet sends a body of its own (a translated request), and only then', () => {
    const raw = ['Content-Type', 'application/json; charset=utf-8', 'Content-Length', '1028', 'Accept-Encoding', 'gzip, br', 'Content-Encoding', 'identity', 'Accept', 'application/json']
    expect(upstream(raw, { ownBody: true })).toEqual([['Accept', 'application/json'], ...FORWARDING])
    expect(upstream(raw)).toEqual([['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', '1028'], ['Accept-Encoding', 'gzip, br'], ['Content-Encoding', 'identity'], ['Accept', 'application/json'], ...FORWARDING])
  })

  it('drops the headers Connection names, keeps the rest in order and case', () => {
    expect(upstream(['X-One', '1', 'X-Secret-Hop', 's', 'Accept', '*/*'], { connection: 'keep-alive, X-Secret-Hop' }))
      .toEqual([['X-One', '1'], ['Accept', '*/*'], ...FORWARDING])
  })

  it('adds a default header only when the client sent none (any case)', () => {
    const defaults = ['anthropic-version', '2023-06-01']
    expect(upstream([], { defaults })).toEqual([['anthropic-version', '2023-06-01'], ...FORWARDING])
    expect(upstream(['Anthropic-Version', '2024-01-01'], { defaults })).toEqual([['Anthropic-Version', '2024-01-01'], ...FORWARDING])
  })

  it('a configured header replaces every client copy that survived stripping', () => {
    expect(upstream(['OpenAI-Organization', 'client-org', 'openai-organization', 'again'], { set: ['openai-organization', 'org-1'] }))
      .toEqual([['openai-organization', 'org-1'], ...FORWARDING])
  })

  it('sets the provider credential whatever the client sent as its own', () => {
    expect(upstream(['authorization', 'Bearer client-token'], { set: ['authorization', 'Bearer sk-provider'] }))
      .toEqual([['authorization', 'Bearer sk-provider'], ...FORWARDING])
  })

  it('names the original host in x-forwarded-host', () => {
    expect(upstream([], { host: 'gw.example:8080' })).toEqual([...FORWARDING, ['x-forwarded-host', 'gw.example:8080']])
  })
})

describe('buildResponseHeaders', () => {
  it.each([
    'connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection',
    'x-blaxel-source', 'x-blaxel-error-code', 'x-request-id', 'x-agnet-region', 'x-agnet-deployment', 'x-agnet-origin', 'x-agnet-attempts', 'server-timing'
  ])('drops the upstream\'s %s', (name) => {
    const out: string[] = []
    buildResponseHeaders({ [name]: 'forged', 'content-type': 'application/json' }, out)
    expect(out).toEqual(['content-type', 'application/json'])
  })

  it('drops what the upstream\'s Connection names and relays repeated headers one by one', () => {
    const out: string[] = []
    buildResponseHeaders({ connection: 'x-hop', 'x-hop': '1', 'set-cookie': ['a=1', 'b=2'] }, out)
    expect(out).toEqual(['set-cookie', 'a=1', 'set-cookie', 'b=2'])
  })

  it.each([
    ['text/event-stream', true],
    ['text/event-stream; charset=utf-8', true],
    ['application/json', false],
    ['text/plain', false]
  ])('content-type %s is an event stream: %s', (ct, sse) => {
    expect(buildResponseHeaders({ 'content-type': ct }, [])).toBe(sse)
  })
})
