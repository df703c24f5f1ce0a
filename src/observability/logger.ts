// pino, asynchronous, with every credential header redacted wherever it might appear. The
// request path never hands raw headers to the logger; redaction is the second line.
import pino, { type Logger, type DestinationStream } from 'pino'
import { LineWriter } from './line-writer.js'

export const REDACT_PATHS = [
  'req.headers.authorization', 'req.headers["x-blaxel-authorization"]', 'req.headers["x-blaxel-api-key"]',
  'req.headers["x-api-key"]', 'req.headers["x-goog-api-key"]', 'req.headers["api-key"]', 'req.headers.cookie',
  'headers.authorization', 'headers["x-blaxel-authorization"]', 'headers["x-api-key"]', 'headers["x-goog-api-key"]',
  'headers["api-key"]', 'headers.cookie', 'token', 'access_token', 'refresh_token', 'client_secret', 'apiKey', 'secret', 'password'
]

export interface LoggerOptions {
  level?: string
  /** Where lines go (tests capture them); default: stdout, asynchronously. */
  destination?: DestinationStream
}

/** Batched writes to stdout from the event loop (see line-writer.ts for why). */
function batchedStdout (): DestinationStream {
  return new LineWriter(1)
}

export function createLogger (opts: LoggerOptions = {}): Logger {
  return pino({
    level: opts.level ?? 'info',
    base: { service: 'agnet' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }, opts.destination ?? batchedStdout())
}

/** The logger's own stream, for lines agnet serialises itself (the access log). */
export function streamOf (logger: Logger): DestinationStream {
  // eslint-disable-next-line @typescript-eslint/consistent-type-assertions -- pino keeps its destination under this symbol on every logger (pino.symbols is its public way in), but its types do not declare the property
  return (logger as Logger & { [pino.symbols.streamSym]: DestinationStream })[pino.symbols.streamSym]
}

export type { Logger }
