// Request ids: the client's X-Request-Id when it is short and safe to echo and log, else a
// process prefix and a counter (unique per process, cheap, no randomness per request).

let counter = 0
const PREFIX = Math.floor(Math.random() * 0xffffffff).toString(36).padStart(7, '0')
const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/

export function requestIdFor (header: string | string[] | undefined): string {
  if (typeof header === 'string' && CLIENT_ID.test(header)) return header
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return `${PREFIX}-${counter.toString(36)}`
}
