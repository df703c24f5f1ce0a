// Which header carries the Blaxel credential, and its precedence (SPEC §4):
//   1. X-Blaxel-Authorization: Bearer <t>   (clients put a dummy "Authorization: Bearer replaced" beside it)
//   2. Authorization: Bearer <t>
//   3. X-Blaxel-Api-Key: <t>               (legacy Python SDK, before Sep 2025)
// The first carrier present decides; lower ones are then ignored (and stripped upstream).
// x-api-key / x-goog-api-key / api-key are provider headers, never Blaxel credentials.
// A carrier sent twice is a 400 (RFC 6750 §3.1 invalid_request): Node would silently keep
// the first Authorization and join the others, so the raw header list is read instead.

export enum CarrierProblem {
  /** No carrier at all (401 AUTHENTICATION_REQUIRED). */
  None = 0,
  /** A carrier whose value is not "Bearer <token>" or is too long (401 AUTHENTICATION_FAILED). */
  Malformed = 1,
  /** The deciding carrier appears more than once (400 BAD_REQUEST). */
  Repeated = 2
}

/** Longest credential looked at; anything longer is refused unparsed. */
export const MAX_TOKEN_LENGTH = 8192

// RFC 6750 b64token after a case-insensitive scheme and at least one space.
const BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$/
const RAW_TOKEN = /^[ \t]*([A-Za-z0-9\-._~+/]+=*)[ \t]*$/
const BLANK = /^[ \t]*$/

function parse (value: string, re: RegExp): string | CarrierProblem {
  if (value.length > MAX_TOKEN_LENGTH + 16) return CarrierProblem.Malformed
  const m = re.exec(value)
  return m === null ? CarrierProblem.Malformed : m[1] as string
}

/** The credential of a request, from node's raw header list [name, value, ...]. */
export function readCredential (raw: readonly string[]): string | CarrierProblem {
  let xba: string | null = null
  let xbaCount = 0
  let auth: string | null = null
  let authCount = 0
  let legacy: string | null = null
  let legacyCount = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    // Length first: most headers are rejected without lower-casing.
    const len = name.length
    if (len !== 13 && len !== 22 && len !== 16) continue
    const value = raw[i + 1] as string
    if (BLANK.test(value)) continue
    const lower = name.toLowerCase()
    if (lower === 'x-blaxel-authorization') { xba = value; xbaCount++ } else if (lower === 'authorization') { auth = value; authCount++ } else if (lower === 'x-blaxel-api-key') { legacy = value; legacyCount++ }
  }
  if (xba !== null) return xbaCount > 1 ? CarrierProblem.Repeated : parse(xba, BEARER)
  if (auth !== null) return authCount > 1 ? CarrierProblem.Repeated : parse(auth, BEARER)
  if (legacy !== null) return legacyCount > 1 ? CarrierProblem.Repeated : parse(legacy, RAW_TOKEN)
  return CarrierProblem.None
}

/** A JWS compact serialisation has exactly two dots; API keys have none. */
export function looksLikeJwt (token: string): boolean {
  const a = token.indexOf('.')
  if (a <= 0) return false
  const b = token.indexOf('.', a + 1)
  return b > a + 1 && b < token.length - 1 && token.indexOf('.', b + 1) === -1
}
