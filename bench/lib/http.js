// One-off HTTP exchanges for checks (fresh connection each, outside any measured window).
import http from 'node:http'

export function request (url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, res => {
      const chunks = []
      res.on('data', d => chunks.push(d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)))
    req.end(body)
  })
}

export async function upstreamCount (upstreamUrl) {
  const r = await request(`${upstreamUrl}/__stats`)
  return JSON.parse(r.body).requests
}
