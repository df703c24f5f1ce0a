// CPU and memory from /proc (Linux): per-process utime+stime of all threads, machine-wide
// busy/steal from /proc/stat, RSS from /proc/<pid>/status. Same method as the perf baseline.
import fs from 'node:fs'

const TICK = 100 // USER_HZ on Linux

/** CPU seconds (user + system, all threads) a process has used so far; 0 when unreadable. */
export function procCpuSec (pid) {
  if (!pid) return 0
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) / TICK
  } catch { return 0 }
}

/** Resident set size in KiB (VmRSS), or NaN. */
export function rssKiB (pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1])
  } catch { return NaN }
}

export function machineTicks () {
  const l = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
  const [user, nice, system, idle, iowait, irq, softirq, steal] = l
  return { busy: user + nice + system + irq + softirq, idle: idle + iowait, steal, total: l.slice(0, 8).reduce((a, b) => a + b, 0) }
}

export function machineDelta (a, b) {
  const total = b.total - a.total
  if (total <= 0) return { busyPct: NaN, stealPct: NaN }
  return { busyPct: 100 * (b.busy - a.busy) / total, stealPct: 100 * (b.steal - a.steal) / total }
}
