// The pure parts of `agnet config check`'s single pass: field names back to paths, what a
// problem sets aside, and the pruned copy whose list indexes map back to the original's.
import { describe, expect, it } from 'vitest'
import { dropFor, parseField, prune } from '../../../src/config/check.js'
import type { ConfigProblem } from '../../../src/config/problems.js'

const problem = (field: string, message = 'expected something'): ConfigProblem => ({ file: 'a.yaml', line: 1, column: 1, field, message })

describe('parseField', () => {
  it.each([
    ['', []],
    ['server', ['server']],
    ['server.port', ['server', 'port']],
    ['workspaces[0].models[12].runtime.type', ['workspaces', 0, 'models', 12, 'runtime', 'type']],
    ['users[3]', ['users', 3]]
  ])('%s', (field, path) => { expect(parseField(field)).toEqual(path) })
})

describe('dropFor', () => {
  it.each<[string, string, Array<string | number> | null]>([
    ['', 'YAML: bad indentation', null],
    ['server.shutdownGrace', 'expected a duration', ['server', 'shutdownGrace']],
    ['workspaces[0].models[1].runtime.type', 'expected one of', ['workspaces', 0, 'models', 1]],
    ['workspaces[0].models[1].deployments[2].region', 'expected a value', ['workspaces', 0, 'models', 1, 'deployments', 2]],
    ['workspaces[0].models[5].colour', 'unknown field; check its spelling', ['workspaces', 0, 'models', 5, 'colour']],
    ['users[0].apiKeys[0].value', 'environment variable X is not set', ['users', 0, 'apiKeys', 0]]
  ])('%s (%s)', (field, message, drop) => { expect(dropFor(problem(field, message))).toEqual(drop) })
})

describe('prune', () => {
  const input = {
    server: { port: 1, shutdownGrace: 'soon' },
    workspaces: [
      { name: 'a', models: [{ name: 'm0' }, { name: 'bad' }, { name: 'm2' }, { name: 'm3' }] },
      { name: 'v0' },
      { name: 'c', models: [{ name: 'x', colour: 'blue' }] }
    ]
  }
  const pruned = prune(input, [['server', 'shutdownGrace'], ['workspaces', 0, 'models', 1], ['workspaces', 1], ['workspaces', 2, 'models', 0, 'colour']])

  it('drops what was set aside and keeps the rest', () => {
    expect(pruned.value).toEqual({
      server: { port: 1 },
      workspaces: [
        { name: 'a', models: [{ name: 'm0' }, { name: 'm2' }, { name: 'm3' }] },
        { name: 'c', models: [{ name: 'x' }] }
      ]
    })
  })

  it('names the entries set aside, so references to them are not reported again', () => {
    expect([...pruned.names].sort()).toEqual(['bad', 'v0'])
  })

  it.each<[Array<string | number>, Array<string | number>]>([
    [['workspaces', 0, 'models', 0, 'name'], ['workspaces', 0, 'models', 0, 'name']],
    [['workspaces', 0, 'models', 1, 'name'], ['workspaces', 0, 'models', 2, 'name']],
    [['workspaces', 0, 'models', 2], ['workspaces', 0, 'models', 3]],
    [['workspaces', 1, 'models', 0, 'name'], ['workspaces', 2, 'models', 0, 'name']],
    [['server', 'port'], ['server', 'port']]
  ])('maps %j back to %j', (path, original) => { expect(pruned.toOriginal(path)).toEqual(original) })
})
