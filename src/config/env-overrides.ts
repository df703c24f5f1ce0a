// Settings a container or the embedded demo takes from the environment, winning over the file:
// AGNET_LOG_LEVEL and AGNET_ACCESS_LOG (the port, host and config path are read by the CLI).
// A value that is not understood is a config problem, never silently ignored.
import type { ConfigProblem } from './problems.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = typeof LOG_LEVELS[number]

function isLogLevel (v: string): v is LogLevel {
  return LOG_LEVELS.some(l => l === v)
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, 1: true, 0: false, on: true, off: false, yes: true, no: false }

export interface ServerEnvOverrides { logLevel?: LogLevel; accessLog?: boolean }

function problem (field: string, message: string): ConfigProblem {
  return { file: '(environment)', line: null, column: null, field, message }
}

export function serverEnvOverrides (env: NodeJS.ProcessEnv, problems: ConfigProblem[]): ServerEnvOverrides {
  const out: ServerEnvOverrides = {}
  const level = env.AGNET_LOG_LEVEL?.trim().toLowerCase()
  if (level !== undefined && level !== '') {
    if (isLogLevel(level)) out.logLevel = level
    else problems.push(problem('AGNET_LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`))
  }
  const access = env.AGNET_ACCESS_LOG?.trim().toLowerCase()
  if (access !== undefined && access !== '') {
    const v = BOOLEANS[access]
    if (v !== undefined) out.accessLog = v
    else problems.push(problem('AGNET_ACCESS_LOG', 'expected true or false (also 1/0, on/off, yes/no)'))
  }
  return out
}
