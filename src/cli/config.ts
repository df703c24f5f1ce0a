import type { Command } from 'commander'
import { loadConfig, ConfigError, formatProblem } from '../config/load.js'
import { compileRuntime } from '../config/compile.js'
import { DispatcherRegistry } from '../proxy/dispatchers.js'
import { Config } from '../config/schema.js'

export function registerConfig (program: Command): void {
  const config = program.command('config').description('Check configs and print the schema.')
  config.command('check <path>')
    .description('Validate a config file or folder; prints every problem and exits non-zero when there is one.')
    .action(async (path: string) => {
      const dispatchers = new DispatcherRegistry()
      try {
        const loaded = loadConfig(path)
        const rt = compileRuntime(loaded, { dispatchers })
        let models = 0
        for (const ws of rt.workspaces.values()) models += ws.models.size
        process.stdout.write(`ok: ${rt.workspaces.size} workspace(s), ${models} model(s), ${rt.deployments.length} deployment(s) in ${loaded.files.length} file(s)\n`)
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err
        process.stderr.write(`${err.problems.length} problem(s):\n${err.problems.map(p => `  ${formatProblem(p)}`).join('\n')}\n`)
        process.exitCode = 1
      } finally {
        await dispatchers.destroyAll()
      }
    })
  config.command('schema')
    .description('Print the JSON Schema of the config.')
    .action(() => {
      process.stdout.write(JSON.stringify({ $schema: 'https://json-schema.org/draft/2019-09/schema', $id: 'https://agnet.local/schema/agnet.schema.json', title: 'agnet configuration', ...Config }, null, 2) + '\n')
    })
}
