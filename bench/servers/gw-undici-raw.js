// The Node floor: plain node:http server → undici Pool.request → .pipe() back (the perf
// baseline's gw-undici-raw.js). usage: node gw-undici-raw.js <upstream-url> <prefix>
import http from 'node:http'
import { Pool } from 'undici'

const [upstream, prefix] = process.argv.slice(2)
const pool = new Pool(upstream, { keepAliveTimeout: 60_000 })
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host'])

function filter (headers) {
  const out = {}
  for (const k in headers) if (!HOP.has(k)) out[k] = headers[k]
  return out
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  const path = req.url.startsWith(prefix) ? (req.url.slice(prefix.length) || '/') : req.url
  const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') ||
    req.headers['transfer-encoding'] !== undefined
  req.on('error', () => {})
  pool.request({ method: req.method, path, headers: filter(req.headers), body: hasBody ? req : null }, (err, up) => {
    if (err) {
      res.statusCode = 502
      res.end()
      return
    }
    res.writeHead(up.statusCode, filter(up.headers))
    // .pipe() rather than stream.pipeline(): pipeline() allocates per call on Node 20
    up.body.on('error', () => res.destroy())
    up.body.pipe(res)
  })
})
server.keepAliveTimeout = 65_000
server.listen(0, '127.0.0.1', () => process.stdout.write(`undici-raw on http://127.0.0.1:${server.address().port}\n`))
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0))
