// What the numbers were measured on: CPU model, cores, Node, kernel, the git commit.
import os from 'node:os'
import { execFileSync } from 'node:child_process'

function git (args, cwd) {
  try { return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch { return null }
}

export function describeMachine (repoDir) {
  const cpus = os.cpus()
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src'], repoDir)
  return {
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    cores: cpus.length,
    memoryMiB: Math.round(os.totalmem() / 1048576),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    commit: git(['rev-parse', 'HEAD'], repoDir),
    commitShort: git(['rev-parse', '--short', 'HEAD'], repoDir),
    // src/ edits not committed yet (other engineers work in the same tree): the numbers are of the build, not only of the commit
    srcDirty: dirty === null ? null : dirty !== ''
  }
}
