// What the server answers when Node's HTTP parser gives up on a connection (bad framing,
// obs-fold, bare LF, oversized headers, timeouts) and when a client asks to CONNECT: agnet's
// edge error shape, `Connection: close`, and never a second answer to one request.
import { IncomingMessage, ServerResponse, type Server } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { EdgeError } from '../core/errors.js'
import { rawEdgeErrorResponse, sendEdgeError } from '../core/render-error.js'
import { requestIdFor } from '../core/request-id.js'
import { isClosing, markClosing } from './closing.js'

// llhttp's error codes → what the client did wrong, in words. Anything else is a generic 400.
const PARSER_MESSAGES: Readonly<Record<string, string>> = {
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is invalid or sent with Content-Length; send one of them, with "chunked" last.',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not one valid number, or is sent with Transfer-Encoding.',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length is sent more than once, or with Transfer-Encoding.',
  HPE_INVALID_CHUNK_SIZE: 'A chunk size of the chunked body is not valid hexadecimal.',
  HPE_STRICT: 'The chunked body is malformed: every chunk ends with CRLF.',
  HPE_INVALID_HEADER_TOKEN: 'A header line is malformed (invalid character, folded line or space before the colon).',
  HPE_LF_EXPECTED: 'Every line must end with CRLF.',
  HPE_CR_EXPECTED: 'Every line must end with CRLF, not a bare LF.',
  HPE_INVALID_METHOD: 'The request method is not valid.',
  HPE_INVALID_URL: 'The request target contains a character that is not allowed.',
  HPE_INVALID_VERSION: 'The request line must end with "HTTP/1.1" and CRLF.',
  HPE_INVALID_CONSTANT: 'The request line must be "METHOD target HTTP/1.1", with no space in the target.'
}
const FRAMING = 'The request could not be read as HTTP/1.1: its framing is invalid.'

function errorFor (code: string | undefined): EdgeError {
  if (code === 'HPE_HEADER_OVERFLOW') return new EdgeError('HEADERS_TOO_LARGE', 'The request headers are larger than the limit.')
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return new EdgeError('REQUEST_ENTITY_TOO_LARGE', 'The chunk extensions are larger than the limit.')
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new EdgeError('REQUEST_TIMEOUT')
  return new EdgeError('BAD_FRAMING', (code !== undefined ? PARSER_MESSAGES[code] : undefined) ?? FRAMING)
}

// Node's per-connection HTTP state, read only to know which request an error belongs to. The
// fields are Node's own and undeclared, so each is checked before it is used.

/** The request the connection's parser is reading, if any. */
function parsingNow (socket: Duplex): IncomingMessage | null {
  const parser = 'parser' in socket ? socket.parser : null
  const incoming = typeof parser === 'object' && parser !== null && 'incoming' in parser ? parser.incoming : null
  return incoming instanceof IncomingMessage ? incoming : null
}

/** The answer going out on the connection, if any. */
function answeringNow (socket: Duplex): ServerResponse | null {
  const out = '_httpMessage' in socket ? socket._httpMessage : null
  return out instanceof ServerResponse ? out : null
}

/**
 * The server's 'clientError' listener (also Fastify's clientErrorHandler, so Fastify's own
 * shape never answers first). Decides whether the broken request may still get an answer:
 * only when no other answer was or is being given to it, and only in order on the connection.
 */
export function createClientErrorHandler (logger: Logger): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  return function onClientError (err: NodeJS.ErrnoException, socket: Duplex): void {
    if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) { socket.destroy(); return }
    if (isClosing(socket)) return
    const current = parsingNow(socket)
    // The request whose body broke, when the error is in a body rather than in a new head.
    const broken = current !== null && !current.complete ? current : null
    const out = answeringNow(socket)
    if (out !== null && out.req !== broken) {
      // An earlier request's answer is still going out: it stays the last one on this
      // connection; the broken request behind it is never answered nor run.
      markClosing(socket)
      out.once('close', () => { socket.destroy() })
      return
    }
    if ((out !== null && out.headersSent) || (out === null && broken !== null)) {
      // The broken request's answer already started or ended: a second one would be read as
      // the answer to the next request. Cut the connection instead.
      socket.destroy()
      return
    }
    const edge = errorFor(err.code)
    const id = requestIdFor(undefined)
    markClosing(socket)
    // The code only: the raw packet Node attaches may hold a credential.
    logger.info({ reqId: id, status: edge.status, parserError: err.code ?? 'unknown' }, 'request refused by the HTTP parser')
    writeRaw(socket, edge, id)
  }
}

const CONNECT_REFUSED = new EdgeError('METHOD_NOT_ALLOWED', 'CONNECT is not served: agnet is not a forward proxy.')
const EXPECTATION_FAILED = new EdgeError('EXPECTATION_FAILED')

/**
 * Answers that Node would otherwise give itself, in its own shape or not at all: CONNECT
 * (Node drops the socket without a word) and an Expect other than 100-continue (bare 417).
 */
export function installEdgeAnswers (server: Server, logger: Logger): void {
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', noop)
    const id = requestIdFor(req.headers['x-request-id'])
    logger.info({ reqId: id, status: 405, method: 'CONNECT' }, 'request refused at the edge')
    writeRaw(socket, CONNECT_REFUSED, id)
  })
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    refuseOnResponse(res, EXPECTATION_FAILED, requestIdFor(req.headers['x-request-id']))
  })
}

/** An edge error on a response object, closing the connection after it. */
export function refuseOnResponse (res: ServerResponse, err: EdgeError, requestId: string): void {
  markClosing(res.socket)
  sendEdgeError(res, err, requestId, CLOSE)
}

const CLOSE = ['connection', 'close'] as const

/** Writes `err` as a whole answer on the socket and destroys it once that is sent. */
function writeRaw (socket: Duplex, err: EdgeError, requestId: string): void {
  socket.once('finish', () => { socket.destroy() })
  socket.end(rawEdgeErrorResponse(err, requestId))
}

function noop (): void {}
