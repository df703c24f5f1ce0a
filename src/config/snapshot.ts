// Knowing whether the config files held still while they were read. Files are stamped by
// inode, size and modification time (following symlinks, so a ConfigMap's `..data` swap or a
// rename over the file shows as a new inode); a load is kept only when the stamps before and
// after it agree, so no generation is ever built from a file caught mid-write.
import { statSync } from 'node:fs'
import { resolve } from 'node:path'
import { listYamlFiles } from './yaml-files.js'

/** path → stamp; 'missing' for a file that is not there. */
export type Stamps = ReadonlyMap<string, string>

export const MISSING = 'missing'

function stampOf (file: string): string {
  try {
    const st = statSync(file, { bigint: true })
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  } catch {
    return MISSING
  }
}

export function stamp (files: Iterable<string>): Stamps {
  const out = new Map<string, string>()
  for (const f of files) out.set(f, stampOf(f))
  return out
}

/** The YAML files a load of `source` would start from (a folder's listing, or the file). */
export function listSource (source: string): string[] {
  const root = resolve(source)
  const files: string[] = []
  try {
    if (statSync(root).isDirectory()) listYamlFiles(root, files)
    else files.push(root)
  } catch {
    files.push(root)
  }
  return files
}

/** True when every file of `a` has the same stamp in `b` and `b` names no file `a` lacks. */
export function sameStamps (a: Stamps, b: Stamps): boolean {
  if (a.size !== b.size) return false
  for (const [f, s] of a) if (b.get(f) !== s) return false
  return true
}

export function missingFiles (stamps: Stamps): string[] {
  const out: string[] = []
  for (const [f, s] of stamps) if (s === MISSING) out.push(f)
  return out
}
