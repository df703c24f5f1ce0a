// Loopback helpers for tests: a port nobody listens on, and a plain node:http upstream.
import http from 'node:http'
import net from 'node:net'

/** A port that was free a moment ago (for "connection refused" and for servers started later). */
export async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => { resolve(port) })
    })
  })
}

export interface Upstream { server: http.Server; url: string; close: () => void }

/** A hand-written upstream on port 0, for behaviour the mock providers do not offer. */
export async function startUpstream (handler: http.RequestListener): Promise<Upstream> {
  const server = http.createServer(handler)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () => { server.closeAllConnections(); server.close() }
  }
}
