// The first look at every request Node hands over, before the run plane or Fastify: what the
// parser let through but agnet does not serve, and the order of pipelined requests.
//
// Pipelining: Node emits every request of a connection as soon as its head is parsed, even
// while earlier ones are still being answered. A request behind an unanswered one waits for
// its turn here, so that a refusal which ends the connection (a malformed request, a body
// left unread) also ends everything queued behind it: none of it reaches an upstream.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { EdgeError } from '../core/errors.js'
import { requestIdFor } from '../core/request-id.js'
import { isClosing } from './closing.js'
import { refuseOnResponse } from './client-errors.js'

/**
 * Most header fields one request may carry. Node frames a request by all its header lines but
 * keeps only the first maxHeadersCount in req.headers, so a request over the count would be
 * forwarded without the fields past it (a Content-Length among them): it is refused instead.
 */
export const MAX_HEADER_COUNT = 200
const MAX_RAW_HEADERS = MAX_HEADER_COUNT * 2

const TOO_MANY_HEADERS = new EdgeError('HEADERS_TOO_LARGE', `The request has more than ${MAX_HEADER_COUNT} header fields.`)
const ABSOLUTE_FORM = new EdgeError('BAD_REQUEST', 'Absolute-form request targets are not accepted; send the path only.')
const ASTERISK_FORM = new EdgeError('BAD_REQUEST', 'The asterisk-form request target ("*") is not served; send a path.')
const NO_HOST = new EdgeError('BAD_REQUEST', 'HTTP/1.1 requests must carry a Host header.')

/** http.createServer options that leave these answers to agnet instead of Node. */
export const EDGE_SERVER_OPTIONS = { requireHostHeader: false } as const

/**
 * Lets Node read one header past the limit, so that "over the limit" can be told from "at
 * the limit": req.rawHeaders holds at least min(sent, maxHeadersCount) fields.
 */
export function limitHeaderCount (server: Server): void {
  server.maxHeadersCount = MAX_HEADER_COUNT + 1
}

/** Wraps the server's request listener with admission and pipelining order. */
export function guardRequests (next: RequestListener, logger: Logger): RequestListener {
  function admit (req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket
    // Behind an answer that ends the connection: never run, never answered.
    if (isClosing(socket) || !socket.writable) { socket.destroy(); return }
    let refusal: EdgeError | null = null
    if (req.rawHeaders.length > MAX_RAW_HEADERS) refusal = TOO_MANY_HEADERS
    else {
      const url = req.url ?? ''
      if (url.charCodeAt(0) !== 47 /* / */) refusal = url === '*' ? ASTERISK_FORM : ABSOLUTE_FORM
      else if (req.headers.host === undefined && req.httpVersionMinor === 1 && req.httpVersionMajor === 1) refusal = NO_HOST
    }
    if (refusal === null) { next(req, res); return }
    const id = requestIdFor(req.headers['x-request-id'])
    logger.info({ reqId: id, status: refusal.status, code: refusal.code }, 'request refused at the edge')
    refuseOnResponse(res, refusal, id)
  }
  return function onRequest (req: IncomingMessage, res: ServerResponse): void {
    // No socket yet: an earlier response on this connection is unfinished. Node assigns the
    // socket when that one ends; it never does after an answer that closed the connection.
    if (res.socket === null) { res.once('socket', () => { admit(req, res) }); return }
    admit(req, res)
  }
}
