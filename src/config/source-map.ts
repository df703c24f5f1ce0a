// Where each part of the merged config was written. Files are merged (folders, several
// documents, Blaxel manifests converted into entries), so a field of the merged config is
// traced back to the document, and the YAML node, it came from.
import { isNode, type Document, type LineCounter } from 'yaml'
import type { ManifestKind } from './manifests.js'
import { fieldName, type ConfigProblem } from './problems.js'

export interface Origin { file: string; doc: Document; lines: LineCounter; base: Array<string | number>; kind: ManifestKind | null }

/** Where each top-level array element came from, to point errors at the right line. */
export class SourceMap {
  private readonly origins = new Map<string, Origin>()
  private fallback: Origin | null = null

  set (pointer: string, origin: Origin): void { this.origins.set(pointer, origin) }
  setRoot (origin: Origin): void { this.fallback ??= origin }

  locate (path: Array<string | number>): { origin: Origin | null; inner: Array<string | number> } {
    for (let i = path.length; i > 0; i--) {
      const key = '/' + path.slice(0, i).join('/')
      const origin = this.origins.get(key)
      if (origin !== undefined) return { origin, inner: path.slice(i) }
    }
    return { origin: this.fallback, inner: path }
  }

  /** A problem at a field of the merged config, with the file and line it was written at. */
  problemAt (path: Array<string | number>, message: string, fallbackFile: string): ConfigProblem {
    const { origin, inner } = this.locate(path)
    const pos = origin === null ? { line: null, column: null } : position(origin, inner)
    return { file: origin?.file ?? fallbackFile, line: pos.line, column: pos.column, field: fieldName(path), message }
  }
}

/** Line and column of a field inside one document (the nearest existing ancestor node). */
export function position (origin: Origin, inner: Array<string | number>): { line: number | null; column: number | null } {
  let path = inner
  if (origin.kind !== null) path = manifestPath(origin.kind, inner)
  for (let i = path.length; i >= 0; i--) {
    const node = origin.doc.getIn([...origin.base, ...path.slice(0, i)], true)
    if (isNode(node) && Array.isArray(node.range)) {
      const pos = origin.lines.linePos(node.range[0])
      return { line: pos.line, column: pos.col }
    }
  }
  return { line: null, column: null }
}

/** Maps a field of a converted manifest entry back to where it stands in the manifest. */
function manifestPath (kind: ManifestKind, inner: Array<string | number>): Array<string | number> {
  const [head, ...rest] = inner
  if (head === undefined) return []
  if (head === 'name' || head === 'displayName' || head === 'labels') return ['metadata', head, ...rest]
  if (kind === 'IntegrationConnection') {
    if (head === 'provider') return ['spec', 'integration', ...rest]
    if (head === 'apiKey') return ['spec', 'secret', 'apiKey', ...rest]
    return ['spec', 'config', head, ...rest]
  }
  return ['spec', head, ...rest]
}
