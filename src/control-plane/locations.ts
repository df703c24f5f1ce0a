// GET /locations: the simulated regions in Blaxel's LocationResponse shape (a bare array on
// every API version, as Blaxel's).
import type { FastifyInstance } from 'fastify'
import type { RtRegion } from '../core/runtime.js'
import { cpState } from './request.js'

export interface LocationResource {
  region: string
  location: string
  country: string
  continent: string
  status: string
  flavors: Array<{ type: string; name: string }>
}

export function locationResource (r: RtRegion): LocationResource {
  return { region: r.name, location: r.location, country: r.country, continent: r.continent, status: 'healthy', flavors: r.flavors.map(f => ({ type: f.type, name: f.name })) }
}

export function registerLocationRoutes (app: FastifyInstance): void {
  app.get('/locations', async (req) => {
    const state = cpState(req)
    return [...state.runtime.regions.values()].map(locationResource)
  })
}
