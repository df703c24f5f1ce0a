// Location and flavor policies → the set of deployments a model may use. Policies do not
// depend on the request, so the set is computed per model when the config is compiled and
// the request path only reads it. As Blaxel combines them: union within a type,
// intersection across types, no policy of a type = everything allowed, codes compared
// case-insensitively.
import type { RtDeployment, RtPolicy, RtRegion } from '../core/runtime.js'
import type { DeploymentVerdict } from '../core/runtime.js'
import { COUNTRY_CONTINENT, CONTINENTS, locationHint } from './network.js'

/** A location or flavor policy with its codes normalised (locations upper-case, regions and flavors lower-case). */
export interface PlacementPolicy {
  readonly name: string
  readonly type: 'location' | 'flavor'
  readonly dryRun: boolean
  readonly countries: ReadonlySet<string>
  readonly continents: ReadonlySet<string>
  readonly regions: ReadonlySet<string>
  /** `type:name`, lower-case. */
  readonly flavors: ReadonlySet<string>
}

export interface PolicyProblem {
  /** Path below the policy: ['locations', 2, 'name']. */
  readonly at: Array<string | number>
  readonly message: string
}

/** Normalises one policy and lists the codes nobody knows; null for maxToken policies. */
export function compilePlacementPolicy (p: RtPolicy, regions: ReadonlyMap<string, RtRegion>, knownFlavors: ReadonlySet<string>, problems: PolicyProblem[]): PlacementPolicy | null {
  if (p.type !== 'location' && p.type !== 'flavor') return null
  const countries = new Set<string>()
  const continents = new Set<string>()
  const regionNames = new Set<string>()
  const flavors = new Set<string>()
  if (p.type === 'location') {
    (p.input.locations ?? []).forEach((l, li) => {
      const upper = l.name.toUpperCase()
      const lower = l.name.toLowerCase()
      if (l.type === 'country' && COUNTRY_CONTINENT.has(upper)) countries.add(upper)
      else if (l.type === 'continent' && CONTINENTS[upper] !== undefined) continents.add(upper)
      else if (l.type === 'location' && regions.has(lower)) regionNames.add(lower)
      else problems.push({ at: ['locations', li, 'name'], message: locationHint(l.type, l.name, regions) })
    })
  } else {
    (p.input.flavors ?? []).forEach((f, fi) => {
      const key = `${f.type}:${f.name.toLowerCase()}`
      if (!knownFlavors.has(key)) problems.push({ at: ['flavors', fi, 'name'], message: `no region or deployment offers the ${f.type} flavor "${f.name}"; known flavors: ${[...knownFlavors].sort().join(', ')}` })
      flavors.add(key)
    })
  }
  return Object.freeze({ name: p.name, type: p.type, dryRun: p.dryRun, countries, continents, regions: regionNames, flavors })
}

function locationAllows (p: PlacementPolicy, region: RtRegion): boolean {
  return p.countries.has(region.country) || p.continents.has(region.continent) || p.regions.has(region.name)
}

function flavorAllows (p: PlacementPolicy, dep: RtDeployment): boolean {
  for (const f of dep.flavors) if (p.flavors.has(`${f.type}:${f.name}`)) return true
  return false
}

function allowsType (policies: readonly PlacementPolicy[], type: 'location' | 'flavor', dep: RtDeployment): boolean | null {
  let any = false
  for (const p of policies) {
    if (p.type !== type) continue
    any = true
    if (type === 'location' ? locationAllows(p, dep.region) : flavorAllows(p, dep)) return true
  }
  return any ? false : null
}

/**
 * The verdict on one deployment: allowed when, for each policy type present, at least one
 * policy of that type allows it. Dry-run policies are evaluated the same way but only
 * reported.
 */
export function judgeDeployment (policies: readonly PlacementPolicy[], dep: RtDeployment): DeploymentVerdict {
  const enforced = policies.filter(p => !p.dryRun)
  const dry = policies.filter(p => p.dryRun)
  const excludedBy: string[] = []
  for (const type of ['location', 'flavor'] as const) {
    if (allowsType(enforced, type, dep) === false) for (const p of enforced) if (p.type === type) excludedBy.push(p.name)
  }
  const dryRunExcludedBy: string[] = []
  if (excludedBy.length === 0) {
    const both = [...enforced, ...dry]
    for (const type of ['location', 'flavor'] as const) {
      if (allowsType(both, type, dep) === false) for (const p of dry) if (p.type === type) dryRunExcludedBy.push(p.name)
    }
  }
  const where = `${dep.region.name} (${dep.region.country}, ${dep.region.continent}; ${dep.flavors.map(f => `${f.type} ${f.name}`).join(', ')})`
  let reason: string
  if (excludedBy.length > 0) reason = `excluded by ${excludedBy.join(', ')}: ${where} is outside what ${excludedBy.length === 1 ? 'it allows' : 'they allow'}`
  else if (enforced.length === 0) reason = 'allowed: no location or flavor policy'
  else reason = `allowed by ${enforced.map(p => p.name).join(', ')}`
  if (dryRunExcludedBy.length > 0) reason += `; dry run: ${dryRunExcludedBy.join(', ')} would exclude it`
  return Object.freeze({ allowed: excludedBy.length === 0, reason, excludedBy: Object.freeze(excludedBy), dryRunExcludedBy: Object.freeze(dryRunExcludedBy) })
}

/** The 403 message when nothing is allowed: which policies, and where the deployments are. */
export function violationMessage (model: string, policies: readonly PlacementPolicy[], deployments: readonly RtDeployment[]): string {
  const names = policies.filter(p => !p.dryRun).map(p => `${p.name} (${p.type})`).join(', ')
  const where = deployments.map(d => `${d.name} in ${d.region.name}`).join(', ')
  return `No deployment of model "${model}" satisfies its policies ${names}. Deployments: ${where === '' ? 'none' : where}. Add a deployment in an allowed region or change the policies.`
}
