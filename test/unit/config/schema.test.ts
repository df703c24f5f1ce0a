import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Config } from '../../../src/config/schema.js'

describe('published JSON Schema', () => {
  it('schema/agnet.schema.json is the schema the loader validates with (regenerate: npm run schema)', () => {
    const published = JSON.parse(readFileSync(new URL('../../../schema/agnet.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>
    const { $schema, $id, title, ...rest } = published
    expect($schema).toMatch(/json-schema/)
    expect(title).toBe('agnet configuration')
    expect($id).toBeTypeOf('string')
    expect(rest).toEqual(JSON.parse(JSON.stringify(Config)))
  })

  it('describes every field', () => {
    const missing: string[] = []
    const walk = (node: unknown, path: string): void => {
      if (node === null || typeof node !== 'object') return
      const n = node as Record<string, unknown>
      if (n.properties !== undefined) {
        for (const [k, v] of Object.entries(n.properties as Record<string, Record<string, unknown>>)) {
          if (typeof v.description !== 'string' && v.anyOf === undefined && v.items === undefined) missing.push(`${path}.${k}`)
          walk(v, `${path}.${k}`)
        }
      }
      if (n.items !== undefined) walk(n.items, `${path}[]`)
      if (Array.isArray(n.anyOf)) n.anyOf.forEach((x, i) => { walk(x, `${path}|${i}`) })
    }
    walk(JSON.parse(JSON.stringify(Config)), '')
    expect(missing).toEqual([])
  })
})
