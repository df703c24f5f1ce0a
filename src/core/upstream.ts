// What an upstream attempt can end with, as a typed value: the kind decides failover, the
// catalogue entry decides the answer. Built by proxy/upstream-errors.ts from transport errors
// and from agnet's own reasons to stop an attempt.
import type { ErrorId } from './errors.js'

export type UpstreamFailureKind =
  /** Nothing reached the upstream (refused, unreachable, connect timeout). */
  | 'connect'
  /** The connection broke before the answer started. */
  | 'reset'
  /** First-byte or idle timeout: the upstream may still be working. */
  | 'timeout'
  /** The upstream answered something that cannot be relayed. */
  | 'protocol'
  /** agnet's own reasons to stop an attempt. */
  | 'client-abort'
  | 'body-too-large'
  | 'total-timeout'

export interface UpstreamFailure {
  readonly kind: UpstreamFailureKind
  /** The transport's code (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, ...) for logs and metrics. */
  readonly code: string
  /** May another deployment be tried without risk of doing the work twice? */
  readonly failover: boolean
  /** The answer when this failure ends the request; null when nobody is left to answer. */
  readonly error: ErrorId | null
  readonly message: string
}

/** An answer rewritten on its way to the client: an mk3 provider translation (src/translate). */
export interface AnswerRewriter {
  /** What to send instead of the client's request: path (and query) under the base URL, and body. */
  readonly request: { readonly rest: string; readonly body: Buffer }
  /** `upstream`: the cleaned upstream head (flat), `upstreamSse` whether it is an event stream; writes the client's head into `out`, true when that is an event stream. */
  begin (status: number, upstream: readonly string[], upstreamSse: boolean, out: string[]): boolean
  /** After begin(): the answer is read whole and sent by end(), so its head waits for it. */
  whole (): boolean
  /** One chunk of the provider's body → what to write now. Throws on a broken answer. */
  data (chunk: Buffer): Buffer | string
  /** After data(): whether it returned the answer's first part early and rest() holds the rest of the chunk. */
  holding (): boolean
  /** Called after data() when holding(): the rest of that chunk. Throws on a broken answer. */
  rest (): string
  /** The provider ended cleanly → the rest of the answer. Throws on an untranslatable answer. */
  end (): string
}
