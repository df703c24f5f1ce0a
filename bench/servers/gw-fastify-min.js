// The reference: a bare Fastify 5 + @fastify/http-proxy gateway, no auth, no logging, the
// perf baseline's gw-fastify-min.js shape. usage: node gw-fastify-min.js <upstream-url> <prefix>
import Fastify from 'fastify'
import proxy from '@fastify/http-proxy'

const [upstream, prefix] = process.argv.slice(2)
const app = Fastify({ logger: false })
app.register(proxy, { upstream, prefix })
const addr = await app.listen({ host: '127.0.0.1', port: 0 })
process.stdout.write(`fastify-min on ${addr}\n`)
for (const s of ['SIGINT', 'SIGTERM']) process.on(s, () => process.exit(0))
