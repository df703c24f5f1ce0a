// What every compile step gets: the place to report problems, located in the YAML.
import type { ConfigProblem } from './load.js'

export interface CompileContext {
  readonly problems: ConfigProblem[]
  /** Reports a problem at a field of the merged config (file, line and field filled in). */
  report (path: Array<string | number>, message: string): void
  readonly env: NodeJS.ProcessEnv
  /** Folder of the config, for relative file references. */
  readonly baseDir: string
}
