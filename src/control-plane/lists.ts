// List endpoints as Blaxel versions them: without `Blaxel-Version` (or with one older than
// 2026-04-28) a bare array of everything; from 2026-04-28 on, `{data, meta}` with cursor
// pagination (`limit` 50 by default, clamped to 200), `sort`, `q` search and a `status` filter.
// Cursors are opaque, bound to the query that opened them, and expire after 24 h, as Blaxel's.
import { createHash } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import { EdgeError } from '../core/errors.js'
import { isRecord, queryParam } from './parsed.js'

export const PAGINATED_SINCE = '2026-04-28'
const VERSION = /^(\d{4})-(\d{2})-(\d{2})$/
const SORTS = new Set(['createdAt:desc', 'createdAt:asc', 'name:asc', 'name:desc'])
const STATUSES = new Set(['DELETING', 'TERMINATED', 'FAILED', 'DEACTIVATED', 'DEACTIVATING', 'UPLOADING', 'BUILDING', 'DEPLOYING', 'DEPLOYED', 'BUILT'])
const CURSOR_TTL_MS = 24 * 3600 * 1000
const DEFAULT_LIMIT = 50
const MAX_LIMIT = 200

/** The API version asked for; null = none. An unknown format is Blaxel's 400 invalid_api_version. */
export function apiVersion (req: FastifyRequest): string | null {
  const raw = req.headers['blaxel-version']
  const v = Array.isArray(raw) ? raw[0] : raw
  if (v === undefined || v.trim() === '') return null
  const m = VERSION.exec(v.trim())
  const date = m === null ? null : new Date(`${v.trim()}T00:00:00Z`)
  if (m === null || date === null || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== v.trim()) {
    throw new EdgeError('INVALID_API_VERSION', `Unknown API version "${v.slice(0, 32)}". Send Blaxel-Version as a date such as ${PAGINATED_SINCE}, or omit it.`)
  }
  return v.trim()
}

export function isPaginated (req: FastifyRequest): boolean {
  const v = apiVersion(req)
  return v !== null && v >= PAGINATED_SINCE
}

/** What a listed item exposes to sorting, search and the status filter. */
export interface Listable {
  readonly name: string
  readonly displayName: string
  readonly createdAt: number
  readonly labels: Readonly<Record<string, string>>
  readonly status: string
}

export interface ListPage<T> { data: T[]; meta: { hasMore: boolean; nextCursor: string; total: number } }

interface CursorBody { o: number; f: string; t: number }

/** A cursor as the client sent it back, checked field by field; null when it is not one of ours. */
function readCursor (cursor: string): CursorBody | null {
  let parsed: unknown
  try { parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) } catch { return null }
  if (!isRecord(parsed)) return null
  const { o, f, t } = parsed
  if (typeof o !== 'number' || !Number.isInteger(o) || o < 0 || typeof f !== 'string' || typeof t !== 'number') return null
  return { o, f, t }
}

function fingerprint (scope: string, sort: string, q: string, status: string): string {
  return createHash('sha256').update(`${scope}\n${sort}\n${q}\n${status}`).digest('base64url').slice(0, 16)
}

function queryString (req: FastifyRequest, name: string): string | null {
  const v = queryParam(req.query, name)
  if (v === undefined) return null
  if (typeof v !== 'string') throw new EdgeError('BAD_REQUEST', `Query parameter "${name}" must be given once.`)
  return v
}

function compare (sort: string) {
  const [key, dir] = sort.split(':')
  const sign = dir === 'desc' ? -1 : 1
  return (a: Listable, b: Listable): number => {
    // Resources loaded from one config share a creation time: the name breaks ties, ascending,
    // so every order is total and a cursor's offset stays meaningful.
    if (key === 'createdAt' && a.createdAt !== b.createdAt) return sign * (a.createdAt - b.createdAt)
    if (key === 'name') return sign * (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  }
}

function matches (item: Listable, q: string): boolean {
  if (item.name.includes(q) || item.displayName.toLowerCase().includes(q)) return true
  for (const [k, v] of Object.entries(item.labels)) if (k.toLowerCase().includes(q) || v.toLowerCase().includes(q)) return true
  return false
}

/**
 * Renders a list the way the request's Blaxel-Version wants it. `scope` binds cursors to the
 * listing (e.g. "models:demo"); `render` turns an item into its JSON.
 */
export function renderList<I extends Listable, T> (req: FastifyRequest, scope: string, items: readonly I[], render: (item: I) => T, now = Date.now()): T[] | ListPage<T> {
  const sortRaw = queryString(req, 'sort')
  const sort = sortRaw ?? 'createdAt:desc'
  if (!SORTS.has(sort)) throw new EdgeError('BAD_REQUEST', `Unknown sort "${sort.slice(0, 32)}"; use one of ${[...SORTS].join(', ')}.`)
  const statusRaw = queryString(req, 'status')
  const statuses = statusRaw === null || statusRaw.trim() === '' ? null : new Set(statusRaw.split(',').map(s => s.trim().toUpperCase()))
  if (statuses !== null) for (const s of statuses) if (!STATUSES.has(s)) throw new EdgeError('BAD_REQUEST', `Unknown status "${s.slice(0, 32)}"; known: ${[...STATUSES].join(', ')}.`)
  if (!isPaginated(req)) return items.map(render)

  const qRaw = (queryString(req, 'q') ?? '').trim().toLowerCase()
  // Blaxel ignores searches shorter than two characters.
  const q = qRaw.length < 2 ? '' : qRaw
  const limitRaw = queryString(req, 'limit')
  let limit = DEFAULT_LIMIT
  if (limitRaw !== null) {
    const n = Number(limitRaw)
    if (!Number.isInteger(n) || n < 1) throw new EdgeError('BAD_REQUEST', `"limit" must be a positive integer (at most ${MAX_LIMIT}).`)
    limit = Math.min(n, MAX_LIMIT)
  }
  const statusKey = statuses === null || statuses.size === STATUSES.size ? '' : [...statuses].sort().join(',')
  const fp = fingerprint(scope, sort, q, statusKey)
  let offset = 0
  const cursor = queryString(req, 'cursor')
  if (cursor !== null && cursor !== '') {
    const body = readCursor(cursor)
    if (body === null) throw new EdgeError('BAD_REQUEST', 'The cursor is malformed; start again without it.')
    if (body.f !== fp) throw new EdgeError('BAD_REQUEST', 'The cursor belongs to another query (workspace, sort, q or status); start again without it.')
    if (now - body.t > CURSOR_TTL_MS) throw new EdgeError('BAD_REQUEST', 'The cursor is older than 24 hours; start again without it.')
    offset = body.o
  }
  const selected = items.filter(i => (statuses === null || statusKey === '' || statuses.has(i.status)) && (q === '' || matches(i, q)))
  selected.sort(compare(sort))
  const page = selected.slice(offset, offset + limit)
  const next = offset + page.length
  const hasMore = next < selected.length
  const nextCursor = hasMore ? Buffer.from(JSON.stringify({ o: next, f: fp, t: now } satisfies CursorBody)).toString('base64url') : ''
  return { data: page.map(render), meta: { hasMore, nextCursor, total: items.length } }
}
