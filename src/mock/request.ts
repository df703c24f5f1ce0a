// Request plumbing for the mock server: bounded body reading, lenient JSON,
// request-target parsing.
import type * as http from 'node:http'

/** Request bodies above this are refused with 413 instead of buffered. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024

/**
 * Reads the whole body; 'too-large' past the limit, null if the client left.
 * Event-based rather than `for await`: leaving an async iterator early
 * destroys the socket, and an oversized upload must still get its 413.
 */
export function readBody (req: http.IncomingMessage): Promise<Buffer | 'too-large' | null> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length'] ?? '0') > MAX_BODY_BYTES) {
      req.resume() // discard, keep the connection usable
      resolve('too-large')
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      if (over) return
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        over = true
        chunks.length = 0
        resolve('too-large')
        return
      }
      chunks.push(chunk)
    })
    req.once('end', () => resolve(over ? 'too-large' : Buffer.concat(chunks, size)))
    req.once('error', () => resolve(null))
    req.once('close', () => {
      if (!req.complete) resolve(null)
    })
  })
}

/** Lenient JSON: tolerates a BOM, surrounding whitespace and an empty body. */
export function parseJson (raw: Buffer): { ok: true; value: unknown } | { ok: false; error: string } {
  const text = raw.toString('utf8').replace(/^\uFEFF/, '').trim()
  if (text === '') return { ok: true, value: {} }
  try {
    const value: unknown = JSON.parse(text)
    return { ok: true, value }
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) }
  }
}

export function parseUrl (target: string): URL | undefined {
  try {
    // Prefix rather than resolve: '//x' must stay a path, not become a host.
    return target.startsWith('/') ? new URL(`http://mock${target}`) : new URL(target)
  } catch {
    return undefined
  }
}

export function sendSmallJson (res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) })
  res.end(payload)
}
