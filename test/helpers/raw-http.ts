// Raw HTTP/1.1 over a socket, for what no client library would send: malformed framing,
// pipelined requests, header floods. Responses are split as a client would read them.
import net from 'node:net'

export interface RawResponse {
  status: number
  /** Header names lower-cased; repeated headers joined with ', '. */
  headers: Record<string, string>
  body: string
}

export interface RawExchange {
  responses: RawResponse[]
  /** Bytes after the last complete response (a truncated or garbled answer). */
  trailing: string
  /** True when the server closed the connection (always, unless `keepOpen` ended the wait). */
  closed: boolean
}

/** Splits a byte stream (latin1) into HTTP responses: Content-Length, chunked, or until close. */
export function parseResponses (raw: string): { responses: RawResponse[]; trailing: string } {
  const responses: RawResponse[] = []
  let at = 0
  while (at < raw.length) {
    const headEnd = raw.indexOf('\r\n\r\n', at)
    if (headEnd < 0) break
    const lines = raw.slice(at, headEnd).split('\r\n')
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')
    if (m === null) break
    const headers: Record<string, string> = {}
    for (const line of lines.slice(1)) {
      const c = line.indexOf(':')
      const name = line.slice(0, c).trim().toLowerCase()
      const value = line.slice(c + 1).trim()
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
    }
    let p = headEnd + 4
    let body = ''
    const status = Number(m[1])
    if (status === 204 || status === 304 || (status >= 100 && status < 200)) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length'])
      if (raw.length < p + n) break
      body = raw.slice(p, p + n)
      p += n
    } else if ((headers['transfer-encoding'] ?? '').includes('chunked')) {
      let complete = false
      while (true) {
        const e = raw.indexOf('\r\n', p)
        if (e < 0) break
        const size = parseInt(raw.slice(p, e), 16)
        if (Number.isNaN(size)) break
        if (size === 0) {
          const end = raw.indexOf('\r\n\r\n', e)
          if (end < 0) break
          p = end + 4
          complete = true
          break
        }
        if (raw.length < e + 2 + size + 2) break
        body += raw.slice(e + 2, e + 2 + size)
        p = e + 2 + size + 2
      }
      if (!complete) break
    } else {
      body = raw.slice(p)
      p = raw.length
    }
    responses.push({ status, headers, body })
    at = p
  }
  return { responses, trailing: raw.slice(at) }
}

/**
 * Writes `chunks` (in order, each as its own write) and collects everything until the server
 * closes the connection, or until `keepOpen` says the responses so far are enough.
 */
export async function rawExchange (port: number, chunks: Array<string | Buffer>, opts: { keepOpen?: (r: RawResponse[]) => boolean } = {}): Promise<RawExchange> {
  return await new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1')
    let buf = ''
    let settled = false
    const done = (closed: boolean): void => {
      if (settled) return
      settled = true
      const parsed = parseResponses(buf)
      sock.destroy()
      resolve({ ...parsed, closed })
    }
    sock.setEncoding('latin1')
    sock.on('connect', () => {
      for (const c of chunks) sock.write(c)
    })
    sock.on('data', (d: string) => {
      buf += d
      if (opts.keepOpen !== undefined && opts.keepOpen(parseResponses(buf).responses)) done(false)
    })
    sock.on('close', () => { done(true) })
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A reset after the answer still counts as a close; before any byte it is a failure.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') done(true)
      else if (!settled) { settled = true; reject(err) }
    })
  })
}
