import { describe, expect, it } from 'vitest'
import { scanUsageObjects } from '../../../src/usage/scan-usage.js'

function scan (text: string): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = []
  scanUsageObjects(Buffer.from(text), { onUsageObject (key, obj) { found.push([key, obj]) } })
  return found
}

describe('scanUsageObjects', () => {
  it('finds usage and usageMetadata objects in order, nested objects and strings included', () => {
    expect(scan('{"a":1,"usage" : {"prompt_tokens":9,"details":{"x":"}"}},"b":[{"usageMetadata":{"totalTokenCount":3}}]}')).toEqual([
      ['usage', { prompt_tokens: 9, details: { x: '}' } }],
      ['usageMetadata', { totalTokenCount: 3 }]
    ])
  })

  it('ignores keys that only start like usage, and the word inside a string', () => {
    expect(scan('{"usages":{"a":1},"text":"say \\"usage\\": {\\"n\\":1}","usage_x":{"b":2}}')).toEqual([])
  })

  it('never throws on a body cut anywhere, even inside the key', () => {
    const whole = '{"id":"x","usageMetadata":{"promptTokenCount":4}}'
    for (let cut = 0; cut <= whole.length; cut++) {
      const found = scan(whole.slice(0, cut))
      expect(found.length).toBe(cut === whole.length || cut === whole.length - 1 ? 1 : 0)
    }
  })

  it('skips an object that is not valid JSON and goes on', () => {
    expect(scan('{"usage":{"a":01},"x":{"usage":{"a":1}}}')).toEqual([['usage', { a: 1 }]])
  })
})
