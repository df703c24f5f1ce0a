// pino, asynchronous, with every credential header redacted wherever it might appear. The
// request path never hands raw headers to the logger; redaction is the second line.
import pino, { type Logger, type DestinationStream } from 'pino'

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

export function createLogger (opts: LoggerOptions = {}): Logger {
  const dest = opts.destination ?? pino.destination({ dest: 1, sync: false })
  return pino({
    level: opts.level ?? 'info',
    base: { service: 'agnet' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime
  }, dest)
}

export type { Logger }
