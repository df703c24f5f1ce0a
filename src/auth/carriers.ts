// Which header carries the Blaxel credential, and its precedence, as Blaxel's SDKs send it:
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
  Repeated = 2,
  /** "Bearer" with nothing after it: a shell variable that was empty (401 AUTHENTICATION_REQUIRED). */
  Empty = 3
}

/** Longest credential looked at; anything longer is refused unparsed. */
export const MAX_TOKEN_LENGTH = 8192

// RFC 6750 b64token. Checked only on the slow path (a key or token not found): a hit in the
// key table or the token cache is an exact match of a credential that passed it already.
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
const BLANK = /^[ \t]*$/

export function isB64Token (token: string): boolean {
  return B64TOKEN.test(token)
}

function isSpace (c: number): boolean { return c === 32 || c === 9 }

/** "Bearer <token>" with the scheme case-insensitive, by char codes (no regex, no allocation but the token). */
function parseBearer (v: string): string | CarrierProblem {
  const n = v.length
  if (n > MAX_TOKEN_LENGTH + 16 || n < 6) return CarrierProblem.Malformed
  // 'bearer' | 0x20 lower-cases ASCII letters: b e a r e r
  if ((v.charCodeAt(0) | 32) !== 98 || (v.charCodeAt(1) | 32) !== 101 || (v.charCodeAt(2) | 32) !== 97 ||
    (v.charCodeAt(3) | 32) !== 114 || (v.charCodeAt(4) | 32) !== 101 || (v.charCodeAt(5) | 32) !== 114) return CarrierProblem.Malformed
  // The parser trims trailing spaces, so "Bearer $UNSET" arrives as "Bearer".
  if (n === 6) return CarrierProblem.Empty
  if (!isSpace(v.charCodeAt(6))) return CarrierProblem.Malformed
  return trimmed(v, 7)
}

function trimmed (v: string, from: number): string | CarrierProblem {
  let i = from
  let end = v.length
  while (i < end && isSpace(v.charCodeAt(i))) i++
  while (end > i && isSpace(v.charCodeAt(end - 1))) end--
  if (i === end) return CarrierProblem.Empty
  if (end - i > MAX_TOKEN_LENGTH) return CarrierProblem.Malformed
  return i === 0 && end === v.length ? v : v.slice(i, end)
}

/**
 * The credential of a request, from node's raw header list [name, value, ...]. The token is
 * not yet checked for RFC 6750 characters: see isB64Token.
 */
export function readCredential (raw: readonly string[]): string | CarrierProblem {
  let xba: string | null = null
  let xbaCount = 0
  let auth: string | null = null
  let authCount = 0
  let legacy: string | null = null
  let legacyCount = 0
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]
    if (name === undefined) break
    // Length first: most headers are rejected without lower-casing.
    const len = name.length
    if (len !== 13 && len !== 22 && len !== 16) continue
    const value = raw[i + 1]
    if (value === undefined || BLANK.test(value)) continue
    const lower = name.toLowerCase()
    if (lower === 'x-blaxel-authorization') { xba = value; xbaCount++ } else if (lower === 'authorization') { auth = value; authCount++ } else if (lower === 'x-blaxel-api-key') { legacy = value; legacyCount++ }
  }
  if (xba !== null) return xbaCount > 1 ? CarrierProblem.Repeated : parseBearer(xba)
  if (auth !== null) return authCount > 1 ? CarrierProblem.Repeated : parseBearer(auth)
  if (legacy !== null) return legacyCount > 1 ? CarrierProblem.Repeated : trimmed(legacy, 0)
  return CarrierProblem.None
}

/** A JWS compact serialisation has exactly two dots; API keys have none. */
export function looksLikeJwt (token: string): boolean {
  const a = token.indexOf('.')
  if (a <= 0) return false
  const b = token.indexOf('.', a + 1)
  return b > a + 1 && b < token.length - 1 && token.indexOf('.', b + 1) === -1
}
