// `agnet token`: create an API key (the secret once, and the hash line for the config), mint
// an access token for a service account of a config, inspect a token.
import type { Command } from 'commander'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { loadConfig, ConfigError, formatProblem } from '../config/load.js'
import { compileRuntime } from '../config/compile.js'
import type { Runtime } from '../core/runtime.js'
import { DispatcherRegistry } from '../proxy/dispatchers.js'
import { hashLine, newApiKey } from '../auth/api-keys.js'
import { looksLikeJwt } from '../auth/carriers.js'
import { IdentityServices } from '../auth/authenticate.js'
import { EdgeError } from '../core/errors.js'
import { parseDuration } from '../config/default-values.js'
import { errorMessage, isRecord, valueAt } from '../config/parsed.js'
import { portOf } from './serve.js'

async function withRuntime<T> (path: string, fn: (rt: Runtime) => Promise<T>, portOverride?: number): Promise<T> {
  const dispatchers = new DispatcherRegistry()
  try {
    return await fn(compileRuntime(loadConfig(path), { dispatchers, portOverride }))
  } catch (err) {
    if (err instanceof ConfigError) throw new Error(`the config is invalid:\n${err.problems.map(p => `  ${formatProblem(p)}`).join('\n')}`)
    throw err
  } finally {
    await dispatchers.destroyAll()
  }
}

function configPath (o: { config?: string }): string {
  const p = o.config ?? process.env.AGNET_CONFIG
  if (p === undefined || p === '') throw new Error('give the config with -c <path> (or AGNET_CONFIG)')
  return p
}

function isoOrNull (s: unknown): string | null {
  return typeof s === 'number' ? new Date(s * 1000).toISOString() : null
}

export function registerToken (program: Command): void {
  const token = program.command('token').description('Create API keys, mint access tokens for service accounts, inspect tokens.')

  token.command('create-key')
    .description('Create a random API key: prints the secret once, and the line to put in the config (only the hash is stored).')
    .option('-n, --name <name>', 'key name shown in logs', 'my-key')
    .option('--scope <model...>', 'models the key may call (least privilege)')
    .option('--json', 'print JSON')
    .action((o: { name: string; scope?: string[]; json?: boolean }) => {
      const secret = newApiKey()
      const hash = hashLine(secret)
      if (o.json === true) {
        process.stdout.write(JSON.stringify({ name: o.name, key: secret, hash, scopes: o.scope ?? null }) + '\n')
        return
      }
      const scopes = o.scope === undefined ? '' : `, scopes: [${o.scope.join(', ')}]`
      process.stdout.write([
        `API key (shown once; agnet keeps only its hash): ${secret}`,
        '',
        'Add it under users[].apiKeys or workspaces[].serviceAccounts[].apiKeys:',
        `  - { name: ${JSON.stringify(o.name)}, hash: "${hash}"${scopes} }`,
        ''
      ].join('\n'))
    })

  token.command('hash')
    .description('Print the config hash line of an existing key or client secret, read from stdin (never from the command line).')
    .action(async () => {
      let input = ''
      for await (const chunk of process.stdin) input += String(chunk)
      const secret = input.replace(/\r?\n$/, '')
      if (secret === '') throw new Error('nothing on stdin')
      process.stdout.write(`${hashLine(secret)}\n`)
    })

  token.command('mint')
    .description('Mint an access token for a service account of a config. Signs locally with auth.issuer.privateKeyFile/Pem, or asks a running agnet (--url).')
    .option('-c, --config <path>', 'config file or folder (env AGNET_CONFIG)')
    .requiredOption('--client-id <id>', 'the service account\'s client id')
    .option('--client-secret <secret>', 'with --url: the client secret (env AGNET_CLIENT_SECRET; default: the config\'s clientSecret)')
    .option('--ttl <duration>', 'lifetime when signing locally, e.g. 30m or 2h (default auth.issuer.tokenTtl)')
    .option('--url <base>', 'ask this running agnet\'s /v0/oauth/token instead of signing locally')
    .option('-p, --port <port>', 'the port the server runs on (env AGNET_PORT): without auth.issuer.issuer or server.publicUrl, the token\'s iss is http://localhost:<port>')
    .option('--bare', 'print the access token alone, for TOKEN=$(agnet token mint ... --bare)')
    .action(async (o: { config?: string; clientId: string; clientSecret?: string; ttl?: string; url?: string; port?: string; bare?: boolean }) => {
      const print = (answer: Record<string, unknown>): void => {
        process.stdout.write(o.bare === true ? `${String(answer.access_token)}\n` : JSON.stringify(answer, null, 2) + '\n')
      }
      if (o.url !== undefined) {
        let secret = o.clientSecret ?? process.env.AGNET_CLIENT_SECRET
        if (secret === undefined && (o.config !== undefined || process.env.AGNET_CONFIG !== undefined)) {
          secret = await withRuntime(configPath(o), async rt => {
            for (const ws of rt.input.workspaces) for (const sa of ws.serviceAccounts ?? []) if (sa.clientId === o.clientId) return sa.clientSecret
            return undefined
          })
        }
        if (secret === undefined) throw new Error('no client secret: pass --client-secret, set AGNET_CLIENT_SECRET, or give a config holding it')
        const res = await fetch(`${o.url.replace(/\/+$/, '')}/v0/oauth/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${o.clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/json' },
          body: JSON.stringify({ grant_type: 'client_credentials' })
        })
        const body: unknown = await res.json()
        if (!res.ok) throw new Error(`the issuer answered ${res.status}: ${String(valueAt(body, 'error') ?? '')} ${String(valueAt(body, 'error_description') ?? '')}`.trim())
        if (!isRecord(body) || typeof body.access_token !== 'string') throw new Error('the issuer answered without an access_token')
        print(body)
        return
      }
      await withRuntime(configPath(o), async rt => {
        const client = rt.identity.clients.get(o.clientId)
        if (client === undefined) throw new Error(`no service account with client id "${o.clientId}" in this config`)
        if (rt.identity.issuer.privateKey === null) {
          throw new Error('this config has no signing key: a server signs with a key generated at start-up. Set auth.issuer.privateKeyFile (PKCS#8 EC P-256) so tokens minted here verify there, or use --url to ask the running server')
        }
        const ttlS = o.ttl === undefined ? undefined : Math.floor(parseDuration(o.ttl, -1) / 1000)
        if (ttlS !== undefined && ttlS < 1) throw new Error(`invalid --ttl "${o.ttl ?? ''}"; e.g. 30m or 2h`)
        const services = new IdentityServices()
        const minted = await services.issuer.mint(rt, client, ttlS)
        print({ access_token: minted.token, token_type: 'Bearer', expires_in: minted.exp - minted.iat, workspace: client.workspace, iss: services.issuer.issuerName(rt) })
      }, portOf(o.port ?? process.env.AGNET_PORT))
    })

  token.command('inspect <token>')
    .description('Show what a token or key is. With -c, check it against a config (keys, external issuers, locally signed tokens); with --url, verify a JWT against a running agnet\'s JWKS.')
    .option('-c, --config <path>', 'config file or folder')
    .option('--url <base>', 'a running agnet, whose JWKS verifies the token')
    .action(async (tok: string, o: { config?: string; url?: string }) => {
      const out: Record<string, unknown> = {}
      let verified: { ok: boolean } & Record<string, unknown> | undefined
      if (looksLikeJwt(tok)) {
        try {
          const payload = decodeJwt(tok)
          out.kind = 'jwt'
          out.header = decodeProtectedHeader(tok)
          out.payload = payload
          out.issuedAt = isoOrNull(payload.iat)
          out.expiresAt = isoOrNull(payload.exp)
          out.expired = typeof payload.exp === 'number' ? payload.exp * 1000 <= Date.now() : null
        } catch {
          out.kind = 'malformed-jwt'
        }
      } else {
        out.kind = 'api-key'
        out.hash = hashLine(tok)
      }
      if (o.url !== undefined && out.kind === 'jwt') {
        const base = o.url.replace(/\/+$/, '')
        const jwks: unknown = await (await fetch(`${base}/v0/.well-known/jwks.json`)).json()
        const disco: unknown = await (await fetch(`${base}/v0/.well-known/openid-configuration`)).json()
        const keys = valueAt(jwks, 'keys')
        const issuer = valueAt(disco, 'issuer')
        try {
          // jose checks each key of the set; a set that is not one verifies nothing.
          await jwtVerify(tok, createLocalJWKSet({ keys: Array.isArray(keys) ? keys : [] }), { issuer: typeof issuer === 'string' ? issuer : undefined, algorithms: ['ES256'] })
          verified = { ok: true, by: base }
        } catch (err) {
          verified = { ok: false, by: base, reason: errorMessage(err) }
        }
      }
      if (o.config !== undefined) {
        await withRuntime(o.config, async rt => {
          const services = new IdentityServices()
          const r = await services.authenticateToken(tok, rt)
          verified = r instanceof EdgeError
            ? { ok: false, by: 'config', reason: r.message }
            : { ok: true, by: 'config', principal: { kind: r.kind, subject: r.subject, credential: r.credential, workspaces: r.workspaces === null ? null : Object.fromEntries(r.workspaces), scopes: r.scopes === null ? null : [...r.scopes] } }
        })
      }
      if (verified !== undefined) out.verified = verified
      process.stdout.write(JSON.stringify(out, null, 2) + '\n')
      if (verified?.ok === false) process.exitCode = 1
    })
}
