// The config shared by the real-client tests: one workspace like the embedded demo, a personal
// API key, a service account with client credentials, and models of several provider types
// served by agnet's mock providers.
export const USER_KEY = 'agnet_sdk_user_key_0123456789abcdef'
export const CLIENT_ID = 'sdk-ci-client'
export const CLIENT_SECRET = 'sdk-ci-secret-0123456789abcdef'

export const SDK_CONFIG = `
users:
  - name: dev
    apiKeys:
      - { name: dev-key, value: "${USER_KEY}" }
workspaces:
  - name: demo
    members: [{ user: dev, role: member }]
    serviceAccounts:
      - { name: ci, clientId: "${CLIENT_ID}", clientSecret: "${CLIENT_SECRET}" }
    integrations:
      - { name: oai, provider: openai, baseUrl: "mock://", apiKey: "sk-upstream-openai" }
      - { name: ant, provider: anthropic, baseUrl: "mock://", apiKey: "sk-upstream-anthropic" }
      - { name: hf, provider: huggingface, baseUrl: "mock://", apiKey: "hf-upstream" }
    models:
      - name: gpt-4o-mini
        runtime: { type: openai, model: gpt-4o-mini }
        integrationConnections: [oai]
        deployments: [{ region: eu-fra-1 }]
      - name: claude-haiku
        runtime: { type: anthropic, model: claude-3-5-haiku-latest }
        integrationConnections: [ant]
        deployments: [{ region: us-pdx-1 }]
      - name: my-model
        runtime: { type: huggingface, model: my-model }
        integrationConnections: [hf]
        deployments: [{ region: us-was-1 }]
`
