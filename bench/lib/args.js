// --name value | --name=value | --flag → { name: value }. Values stay strings.
export function parseArgs (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) continue
    const eq = a.indexOf('=')
    if (eq > 0) { out[a.slice(2, eq)] = a.slice(eq + 1); continue }
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = 'true'
    else { out[a.slice(2)] = next; i++ }
  }
  return out
}

export const list = (v, fallback) => (v === undefined || v === '' ? fallback : String(v).split(',').map(s => s.trim()).filter(Boolean))
