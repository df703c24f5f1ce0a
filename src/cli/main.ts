#!/usr/bin/env node
// agnet's command line: one file per verb, commander for parsing. Environment variables
// mirror flags (AGNET_CONFIG, AGNET_PORT, ...).
import { Command } from 'commander'
import { registerServe } from './serve.js'
import { registerMock } from './mock.js'
import { registerConfig } from './config.js'
import { registerHealthcheck } from './healthcheck.js'
import { registerLoadtest } from './loadtest.js'
import { registerRun } from './run.js'
import { registerExplain } from './explain.js'
import { registerToken } from './token.js'
import { unknownCommand } from './unknown-command.js'
import { registerChaos } from './chaos.js'
import { errorMessage } from '../config/parsed.js'

export function buildCli (): Command {
  const program = new Command()
  program
    .name('agnet')
    .description('The Global Agentics Network on one machine: a local gateway that behaves like Blaxel\'s inference edge.')
    .version('0.1.0')
    .showHelpAfterError()
  registerServe(program)
  registerMock(program)
  registerConfig(program)
  registerHealthcheck(program)
  registerLoadtest(program)
  registerRun(program)
  registerExplain(program)
  registerToken(program)
  registerChaos(program)
  return program
}

const cli = buildCli()
const unknown = unknownCommand(cli, process.argv.slice(2))
if (unknown !== null) {
  process.stderr.write(`agnet: ${unknown}\n`)
  process.exit(2)
}
cli.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`agnet: ${errorMessage(err)}\n`)
  process.exit(1)
})
