// Upstream header hygiene: every spelling of a stripped or framing header is dropped.
import { describe, expect, it } from 'vitest'
import { buildUpstreamHeaders } from '../../../src/proxy/headers.js'

function forwarded (names: string[]): string[] {
  const raw = names.flatMap(n => [n, 'v'])
  const out = buildUpstreamHeaders(raw, undefined, [], [], '127.0.0.1', 'gw', 'rid')
  return out.filter((_, i) => i % 2 === 0).filter(n => !['x-forwarded-for', 'x-forwarded-proto', 'x-request-id', 'x-forwarded-host'].includes(n))
}

describe('buildUpstreamHeaders drops look-alike names', () => {
  it.each([
    'X_Blaxel_Authorization', 'x-blaxel_authorization', 'X_Blaxel-Authorization', 'Proxy_Authorization',
    'Transfer_Encoding', 'Content_Length', 'X_Forwarded_For', 'x_forwarded-host', 'X_Real_IP', 'X_Request_Id',
    'Proxy_Connection', 'Keep_Alive', 'X_Api_Key', 'Api_Key', 'X_Goog_Api_Key', 'X_Blaxel_Workspace', 'Blaxel_Version',
    'x_agnet_region', 'X_Agnet-Deployment', 'x-agnet_origin'
  ])('%s is not forwarded', name => {
    expect(forwarded([name])).toEqual([])
  })

  it('keeps other names with underscores and the real framing header', () => {
    expect(forwarded(['X_Custom', 'Content-Length', 'x_agnetic', 'Cookie_'])).toEqual(['X_Custom', 'Content-Length', 'x_agnetic', 'Cookie_'])
  })
})
