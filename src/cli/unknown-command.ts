// `serve` is the default command, so commander hands an unknown word to it and answers "too
// many arguments for 'serve'". A first word that is not an option and names no command is
// caught before parsing, with the list of commands.
import type { Command } from 'commander'

export function unknownCommand (program: Command, args: readonly string[]): string | null {
  const first = args[0]
  if (first === undefined || first.startsWith('-')) return null
  const commands = program.commands.map(c => c.name())
  if (first === 'help' || commands.includes(first) || program.commands.some(c => c.aliases().includes(first))) return null
  const shown = first.length > 64 ? `${first.slice(0, 64)}…` : first
  return `unknown command '${shown}'. Commands: ${commands.join(', ')}. Run 'agnet <command> --help' for its options.`
}
