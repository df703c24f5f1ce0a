import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../src/config/load.js'
import { compileRuntime } from '../../../src/config/compile.js'
import { checkReload } from '../../../src/config/reload-guard.js'
import { DispatcherRegistry } from '../../../src/proxy/dispatchers.js'
import { writeConfig } from '../../helpers/gateway.js'
import type { Runtime } from '../../../src/core/runtime.js'

const dispatchers = new DispatcherRegistry()
function rt (yaml: string): Runtime {
  return compileRuntime(loadConfig(writeConfig(yaml), { env: {} }), { dispatchers })
}

const MODEL = '      - { name: gpt, runtime: { type: openai, model: m }, deployments: [{ region: us-pdx-1, url: "http://127.0.0.1:9" }] }'
const USERS = `users:\n  - name: ann\n    apiKeys: [{ name: k, hash: "sha256:${'a'.repeat(64)}" }]\n`
const KEYED = `${USERS}workspaces:\n  - name: acme\n    members: [{ user: ann, role: member }]\n    models:\n${MODEL}\n`
const OPEN = `workspaces:\n  - name: acme\n    models:\n${MODEL}\n`
const DECLARED_OPEN = `auth: { open: true }\n${OPEN}`
const NO_MODELS = `${USERS}workspaces:\n  - name: acme\n    members: [{ user: ann, role: member }]\n`

describe('reload guard', () => {
  const cases: Array<[string, string, string, string | null]> = [
    ['credentials required → none left', KEYED, OPEN, 'opens-run-plane'],
    ['credentials required → open on purpose', KEYED, DECLARED_OPEN, null],
    ['open → credentials required', OPEN, KEYED, null],
    ['open by omission → still open', OPEN, OPEN, null],
    ['every model removed', KEYED, NO_MODELS, 'removes-every-model'],
    ['models back after none', NO_MODELS, KEYED, null],
    ['every workspace removed', OPEN, 'workspaces: []\n', 'removes-every-workspace'],
    ['unchanged', KEYED, KEYED, null]
  ]
  for (const [name, before, after, reason] of cases) {
    it(name, () => {
      expect(checkReload(rt(before), rt(after))?.reason ?? null).toBe(reason)
    })
  }

  it('fails closed with auth.open: false and no credential, and refuses auth.open: true beside credentials', () => {
    expect(rt(`auth: { open: false }\n${OPEN}`).identity.required).toBe(true)
    expect(() => rt(`auth: { open: true }\n${KEYED}`)).toThrow(/auth\.open.*declared open but credentials are configured/s)
  })
})
