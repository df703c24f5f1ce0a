// The embedded demo's credentials as a shell file, so the README's commands work when pasted
// into another terminal: `source .agnet/demo.env`. Written only for the embedded demo (its
// credentials are generated per start and reach mock providers only), readable by the owner
// only, replaced atomically so a shell never sources half a file.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { errorCode, errorMessage } from './config/parsed.js'

/** Values are generated names and base64url secrets; anything else is refused, not quoted. */
const SAFE = /^[A-Za-z0-9._:/=+-]*$/

export function demoEnvText (vars: ReadonlyArray<readonly [string, string]>): string {
  const lines = ['# Written by `agnet serve` for the embedded demo. In another shell: source this file.']
  for (const [name, value] of vars) {
    if (!SAFE.test(value)) throw new Error(`${name} holds characters a shell would interpret`)
    lines.push(`export ${name}='${value}'`)
  }
  return lines.join('\n') + '\n'
}

/** Writes the file; answers the reason when it cannot (a read-only folder in a container). */
export function writeDemoEnv (path: string, vars: ReadonlyArray<readonly [string, string]>): string | null {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    const tmp = `${path}.${process.pid}.tmp`
    writeFileSync(tmp, demoEnvText(vars), { mode: 0o600 })
    renameSync(tmp, path)
    return null
  } catch (err) {
    return errorCode(err) ?? errorMessage(err)
  }
}
