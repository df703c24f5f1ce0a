// The simulated network: which places exist (regions, ISO countries, continents), where a
// caller stands (its origin) and the round-trip time from every origin to every region.
// Everything is computed when the config is compiled; the request path reads one row.
import type { ConfigInput } from '../config/schema.js'
import type { CompileContext } from '../config/compile-context.js'
import type { RtRegion } from '../core/runtime.js'
import type { OriginInfo } from '../core/runtime.js'

export const CONTINENTS: Readonly<Record<string, string>> = Object.freeze({
  AF: 'Africa', AN: 'Antarctica', AS: 'Asia', EU: 'Europe', NA: 'North America', OC: 'Oceania', SA: 'South America'
})

// ISO 3166-1 alpha-2 codes by continent (XK, Kosovo, is user-assigned but widely used).
const COUNTRIES_BY_CONTINENT: Readonly<Record<string, string>> = {
  AF: 'DZ AO BJ BW BF BI CV CM CF TD KM CD CG CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW',
  AN: 'AQ BV GS HM TF',
  AS: 'AF AM AZ BH BD BT BN KH CN CY GE HK IN ID IR IQ IL JP JO KZ KW KG LA LB MO MY MV MN MM NP KP OM PK PS PH QA SA SG KR LK SY TW TJ TH TL TR TM AE UZ VN YE IO CC CX',
  EU: 'AL AD AT BY BE BA BG HR CZ DK EE FO FI FR DE GI GR GG HU IS IE IM IT JE XK LV LI LT LU MT MD MC ME NL MK NO PL PT RO RU SM RS SK SI ES SJ SE CH UA GB VA AX',
  NA: 'AI AG AW BS BB BZ BM BQ VG CA KY CR CU CW DM DO SV GL GD GP GT HT HN JM MQ MX MS NI PA PR BL KN LC MF PM VC SX TT TC US VI UM',
  OC: 'AS AU CK FJ PF GU KI MH FM NR NC NZ NU NF MP PW PG PN WS SB TK TO TV VU WF',
  SA: 'AR BO BR CL CO EC FK GF GY PY PE SR UY VE'
}

/** Country code (upper-case) → continent code. */
export const COUNTRY_CONTINENT: ReadonlyMap<string, string> = new Map(
  Object.entries(COUNTRIES_BY_CONTINENT).flatMap(([continent, list]) => list.split(' ').map((c): [string, string] => [c, continent]))
)

/** Codes people write that are not ISO alpha-2, with the one they mean. */
const COUNTRY_ALIASES: Readonly<Record<string, string>> = { UK: 'GB', EL: 'GR' }

/**
 * Simulated RTT (ms) when the matrix says nothing about a pair. Rough public-internet figures,
 * chosen so that nearer is always faster: the same region, country, continent, the North
 * Atlantic, anything else.
 */
export const FALLBACK_RTT = Object.freeze({ sameRegion: 1, sameCountry: 20, sameContinent: 40, naEu: 90, other: 180 })

/** A hint for a location code nobody knows, naming what was probably meant. */
export function locationHint (kind: 'country' | 'continent' | 'location', code: string, regions: ReadonlyMap<string, RtRegion>): string {
  const upper = code.toUpperCase()
  const lower = code.toLowerCase()
  if (kind === 'country') {
    const alias = COUNTRY_ALIASES[upper]
    if (alias !== undefined) return `"${code}" is not an ISO 3166-1 alpha-2 code; use "${alias}"`
    if (CONTINENTS[upper] !== undefined) return `"${code}" is a continent code; write { type: continent, name: ${upper} }`
    if (regions.has(lower)) return `"${code}" is a region; write { type: location, name: ${lower} }`
    return `unknown country code "${code}"; expected an ISO 3166-1 alpha-2 code such as US, GB, DE or FR`
  }
  if (kind === 'continent') {
    if (COUNTRY_CONTINENT.has(upper) || COUNTRY_ALIASES[upper] !== undefined) return `"${code}" is a country code; write { type: country, name: ${upper} }`
    return `unknown continent code "${code}"; expected one of ${Object.keys(CONTINENTS).join(', ')}`
  }
  if (COUNTRY_CONTINENT.has(upper)) return `no region is named "${code}"; for a country write { type: country, name: ${upper} }`
  if (CONTINENTS[upper] !== undefined) return `no region is named "${code}"; for a continent write { type: continent, name: ${upper} }`
  return `unknown region "${code}"; known regions: ${[...regions.keys()].join(', ')}`
}

function fallbackRtt (o: { kind: 'region' | 'country'; name: string; country: string; continent: string }, r: RtRegion): number {
  if (o.kind === 'region' && o.name === r.name) return FALLBACK_RTT.sameRegion
  if (o.country === r.country) return FALLBACK_RTT.sameCountry
  if (o.continent === r.continent) return FALLBACK_RTT.sameContinent
  if ((o.continent === 'NA' && r.continent === 'EU') || (o.continent === 'EU' && r.continent === 'NA')) return FALLBACK_RTT.naEu
  return FALLBACK_RTT.other
}

/** Normalises a matrix key: region names lower-case, country codes upper-case; null if neither. */
function matrixKey (key: string, regions: ReadonlyMap<string, RtRegion>): string | null {
  const lower = key.toLowerCase()
  if (regions.has(lower)) return lower
  const upper = key.toUpperCase()
  if (COUNTRY_CONTINENT.has(upper)) return upper
  return null
}

export interface CompiledNetwork {
  readonly regionNames: readonly string[]
  readonly regionIndex: ReadonlyMap<string, number>
  /** Every origin by the spellings a header may use: region names, country codes in both cases. */
  readonly origins: ReadonlyMap<string, OriginInfo>
}

/**
 * Compiles the RTT matrix into one row per origin (every region and every ISO country), so
 * resolving an origin and reading its RTT to a region are two lookups.
 */
export function compileRtt (input: ConfigInput, regions: ReadonlyMap<string, RtRegion>, ctx: CompileContext): CompiledNetwork {
  const regionNames = [...regions.keys()]
  const regionIndex = new Map(regionNames.map((n, i) => [n, i]))
  const explicit = new Map<string, Map<string, number>>()
  const set = (a: string, b: string, v: number, weak: boolean): void => {
    let row = explicit.get(a)
    if (row === undefined) explicit.set(a, row = new Map())
    if (!weak || !row.has(b)) row.set(b, v)
  }
  const matrix = input.network?.rtt ?? {}
  for (const [from, row] of Object.entries(matrix)) {
    const a = matrixKey(from, regions)
    if (a === null) {
      ctx.report(['network', 'rtt', from], `"${from}" is neither a region (${regionNames.join(', ')}) nor an ISO 3166-1 alpha-2 country code`)
      continue
    }
    for (const [to, ms] of Object.entries(row)) {
      const b = matrixKey(to, regions)
      if (b === null) {
        ctx.report(['network', 'rtt', from, to], `"${to}" is neither a region (${regionNames.join(', ')}) nor an ISO 3166-1 alpha-2 country code`)
        continue
      }
      if (!regions.has(a) && !regions.has(b)) {
        ctx.report(['network', 'rtt', from, to], 'one side of an RTT entry must be a region: traffic goes from an origin to a region')
        continue
      }
      set(a, b, ms, false)
    }
  }
  // The matrix is symmetric when one direction is missing.
  for (const [a, row] of [...explicit]) for (const [b, v] of row) set(b, a, v, true)

  const origins = new Map<string, OriginInfo>()
  const build = (kind: 'region' | 'country', name: string, country: string, continent: string): OriginInfo => {
    const rtt = new Float64Array(regionNames.length)
    const row = explicit.get(name)
    let i = 0
    for (const [rn, r] of regions) {
      rtt[i++] = row?.get(rn) ?? (kind === 'region' && rn === name ? FALLBACK_RTT.sameRegion : fallbackRtt({ kind, name, country, continent }, r))
    }
    return Object.freeze({ name, kind, country, continent, rtt })
  }
  for (const [name, r] of regions) origins.set(name, build('region', name, r.country, r.continent))
  for (const [country, continent] of COUNTRY_CONTINENT) {
    const info = build('country', country, country, continent)
    // A region that happens to be named like a country keeps its name.
    if (!origins.has(country)) origins.set(country, info)
    if (!origins.has(country.toLowerCase())) origins.set(country.toLowerCase(), info)
  }
  return { regionNames, regionIndex, origins }
}

/** Resolves an X-Agnet-Origin value (region name or country code, any case); null if unknown. */
export function resolveOrigin (origins: ReadonlyMap<string, OriginInfo>, value: string): OriginInfo | null {
  return origins.get(value) ?? origins.get(value.toLowerCase()) ?? origins.get(value.toUpperCase()) ?? null
}
