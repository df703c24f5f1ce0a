// `agnet loadtest --scenario FILE`: reads and checks the scenario (exit 2 on any mistake,
// before any load), runs it, prints the result (text or --json), writes --report FILE.html,
// and exits 0 when every expectation is met, 1 when not (or when every request failed), 2
// when the run could not be made. Ctrl-C stops the load and clears the scenario's faults.
import { writeFileSync } from 'node:fs'
import { resolveTarget } from './run.js'
import { loadScenario, ScenarioError } from '../loadtest/scenario.js'
import { RunError, runScenario } from '../loadtest/scenario-run.js'
import { formatScenario } from '../loadtest/scenario-text.js'
import { renderReport } from '../loadtest/report-html.js'
import { FaultApiError } from '../faults/client.js'
import { errorMessage } from '../config/parsed.js'

export interface ScenarioFlags {
  scenario: string
  url?: string
  apiKey?: string
  json?: boolean
  report?: string
}

export async function scenarioCommand (flags: ScenarioFlags, env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let scenario
  try {
    scenario = loadScenario(flags.scenario)
  } catch (e) {
    if (e instanceof ScenarioError) { err(`agnet loadtest: ${e.message}\n`); return 2 }
    err(`agnet loadtest: cannot read ${flags.scenario}: ${errorMessage(e)}\n`)
    return 2
  }
  const { runUrl, apiUrl } = resolveTarget({ url: flags.url }, env)
  const key = flags.apiKey ?? env.BL_API_KEY ?? env.AGNET_API_KEY ?? null
  const controller = new AbortController()
  const onSignal = (): void => { err('\nagnet loadtest: interrupted, clearing the scenario\'s faults…\n'); controller.abort() }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const result = await runScenario(scenario, { baseUrl: runUrl, apiUrl, apiKey: key === '' ? null : key, signal: controller.signal, log: line => { err(`${line}\n`) } })
    if (flags.report !== undefined) writeFileSync(flags.report, renderReport(result))
    out(flags.json === true ? JSON.stringify(result, null, 2) + '\n' : formatScenario(result))
    if (flags.report !== undefined && flags.json !== true) out(`report: ${flags.report}\n`)
    return result.verdict.exitCode
  } catch (e) {
    if (e instanceof ScenarioError || e instanceof RunError) { err(`agnet loadtest: ${e.message}\n`); return 2 }
    if (e instanceof FaultApiError) { err(`agnet loadtest: the gateway refused a fault: ${e.message}\n`); return 2 }
    throw e
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}
