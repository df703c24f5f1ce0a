// GET /configuration: the codes a location policy may name (continents and countries of the
// configured regions: a policy naming any other place would allow nothing), the regions, and
// the region agnet detects the caller in.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Runtime } from '../core/runtime.js'
import { cpState } from './request.js'

const CONTINENTS: Readonly<Record<string, string>> = {
  AF: 'Africa', AN: 'Antarctica', AS: 'Asia', EU: 'Europe', NA: 'North America', OC: 'Oceania', SA: 'South America'
}

let countryNames: Intl.DisplayNames | null = null
function countryName (code: string): string {
  try {
    countryNames ??= new Intl.DisplayNames(['en'], { type: 'region' })
    return countryNames.of(code) ?? code
  } catch {
    return code
  }
}

/** The caller's region: a trusted X-Agnet-Origin naming a region, else the gateway's own. */
function detectedRegion (req: FastifyRequest, runtime: Runtime): string {
  if (runtime.server.trustOriginHeader) {
    const h = req.headers['x-agnet-origin']
    const v = (Array.isArray(h) ? h[0] : h)?.trim().toLowerCase()
    if (v !== undefined && runtime.regions.has(v)) return v
  }
  return runtime.server.region
}

export function registerConfigurationRoutes (app: FastifyInstance): void {
  app.get('/configuration', async (req) => {
    const state = cpState(req)
    const continents = new Map<string, string>()
    const countries = new Map<string, string>()
    const regions = []
    for (const r of state.runtime.regions.values()) {
      continents.set(r.continent, CONTINENTS[r.continent] ?? r.continent)
      countries.set(r.country, countryName(r.country))
      regions.push({ name: r.name, location: r.location, country: r.country, continent: r.continent, allowed: 'true', infoGeneration: 'mk3', mk31Available: true })
    }
    return {
      continents: [...continents].map(([name, displayName]) => ({ name, displayName })),
      countries: [...countries].map(([name, displayName]) => ({ name, displayName })),
      regions,
      privateLocations: [],
      detectedRegion: detectedRegion(req, state.runtime)
    }
  })
}
