// Which answers end their connection, and the connections already condemned. After a
// malformed request nothing that follows it on the connection can be trusted to be a request
// of its own, and a body left unread would either have to be drained (work for an answer
// already given) or be read as the next request: both end the connection instead.
import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'

/** Connections whose end is decided: nothing more is answered or dispatched on them. */
const closing = new WeakSet<Duplex>()

export function markClosing (socket: Duplex | null): void {
  if (socket !== null) closing.add(socket)
}

export function isClosing (socket: Duplex): boolean {
  return closing.has(socket)
}

/**
 * Statuses after which the rest of the connection is not trusted: the request was malformed,
 * late, too large or broke agnet, so where it ends (and the next one starts) is in doubt.
 */
function distrusts (status: number): boolean {
  return status === 400 || status === 408 || status === 413 || status === 431 || status === 500
}

/** True while the request still has body bytes the server has not read. */
export function bodyPending (req: IncomingMessage): boolean {
  if (req.complete) return false
  const cl = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (cl !== undefined && cl !== '0')
}

/**
 * May the answer wait one turn for the body? Only when the connection would otherwise end just
 * because the body is unread: a small body that came in the packet of its head is then read
 * by the parser first, and the connection is kept (a client refused with 401 or 429 reuses it).
 */
export function mayAwaitBody (req: IncomingMessage, status: number): boolean {
  return !distrusts(status) && bodyPending(req)
}

/** Does an edge error with this status, answered to `req`, end the connection? */
export function closesConnection (req: IncomingMessage, status: number): boolean {
  return distrusts(status) || bodyPending(req)
}
