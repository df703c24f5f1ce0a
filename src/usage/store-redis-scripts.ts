// The Redis store's side on Redis: the key layout and the two Lua scripts (admission checks
// and settlements, each atomic over every limit it touches). The scripts take and answer flat
// arrays of numbers, laid out below; store-redis-wire.ts turns named records into them and back.
// Keys:
//   {prefix}u:{<limit key>}:<window start ms>   hash i/o/t: settled usage; expires with its window
//   {prefix}r:{<limit key>}:<bucket>            hash i/o/t: reservations of requests in flight,
//                                               by admission time in buckets of a quarter of the
//                                               longest request; a check sums the buckets a live
//                                               request can be in, so the reservations of a
//                                               replica that died mid-request stop counting after
//                                               that time, however busy the model stays
//   {prefix}e:{<ws/model>}                      hash s/r/i/o: what the model's requests use
//                                               (estimate.ts), read by every check, moved by
//                                               every settlement; expires a day after the last
// The hash tag {<limit key>} keeps a limit's keys in one cluster slot.
import { createHash } from 'node:crypto'
import { ALPHA } from './estimate.js'

// The checks of one event-loop turn, in the order they were made, in one call: ARGV[1] is how
// many; then per check n, ri, ro, rt, ttl, nb, bytes, hint and n × (input, output, total,
// dryRun), and its 1 + n × (nb + 1) keys in KEYS: the model's estimate, then per limit its
// window and reservation buckets. The answer is every check's [admitted, i, o, t per limit,
// reserved i, o, t, learned (1 when reserved by the estimate)], one after the other. Atomic as a whole, so each check sees the
// reservations of those before it. A model with an estimate is reserved for by it (the
// arithmetic of estimate.ts, learnedReservation), else by the (ri, ro, rt) sent; bytes -1
// means reserve (ri, ro, rt) as sent, and the estimate key is then not read.
export const CHECK = `
local m = tonumber(ARGV[1])
local out = {}
local est = {}
local ka, aa = 0, 1
for q = 1, m do
  local n, ri, ro, rt = tonumber(ARGV[aa + 1]), tonumber(ARGV[aa + 2]), tonumber(ARGV[aa + 3]), tonumber(ARGV[aa + 4])
  local ttl, nb = tonumber(ARGV[aa + 5]), tonumber(ARGV[aa + 6])
  local bytes, hint = tonumber(ARGV[aa + 7]), tonumber(ARGV[aa + 8])
  local ek = KEYS[ka + 1]
  local e = est[ek]
  if e == nil and bytes >= 0 then
    local v = redis.call('HMGET', ek, 's', 'r', 'i', 'o')
    e = { tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0 }
    est[ek] = e
  end
  local learned = 0
  if bytes >= 0 and e[1] > 0 then
    learned = 1
    if bytes > 0 and e[2] > 0 then ri = math.ceil(bytes * e[2] - 1e-6) else ri = math.ceil(e[3] - 1e-6) end
    ro = math.ceil(e[4] - 1e-6)
    if hint >= 0 and hint < ro then ro = hint end
    rt = ri + ro
  end
  ka = ka + 1
  local per = nb + 1
  local first = #out + 1
  out[first] = 1
  local refuse = false
  for j = 1, n do
    local a = aa + 8 + (j - 1) * 4
    local li, lo, lt = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
    local base = ka + (j - 1) * per
    local u = redis.call('HMGET', KEYS[base + 1], 'i', 'o', 't')
    local ci, co, ct = tonumber(u[1]) or 0, tonumber(u[2]) or 0, tonumber(u[3]) or 0
    for b = 2, per do
      local r = redis.call('HMGET', KEYS[base + b], 'i', 'o', 't')
      ci = ci + (tonumber(r[1]) or 0)
      co = co + (tonumber(r[2]) or 0)
      ct = ct + (tonumber(r[3]) or 0)
    end
    out[#out + 1] = ci
    out[#out + 1] = co
    out[#out + 1] = ct
    if ARGV[a + 4] == '0' and ((li > 0 and ci >= li) or (lo > 0 and co >= lo) or (lt > 0 and ct >= lt)) then refuse = true end
  end
  if refuse then
    out[first] = 0
    ri, ro, rt = 0, 0, 0
  elseif ri > 0 or ro > 0 or rt > 0 then
    for j = 1, n do
      local k = KEYS[ka + (j - 1) * per + 2]
      redis.call('HINCRBY', k, 'i', ri)
      redis.call('HINCRBY', k, 'o', ro)
      redis.call('HINCRBY', k, 't', rt)
      redis.call('PEXPIRE', k, ttl)
    end
  end
  out[#out + 1] = ri
  out[#out + 1] = ro
  out[#out + 1] = rt
  out[#out + 1] = learned
  ka = ka + n * per
  aa = aa + 8 + n * 4
end
return out
`

// Settlements: ARGV[1] = p, the (window, reservation bucket) pairs, whose 2p keys come first
// with 7 arguments each; then one estimate key per model that finished requests, with count,
// body bytes, input and output summed over them, and last the estimates' time to live. The
// estimate moves as estimate.ts (learn) moves it.
export const ADD = `
local f = {'i', 'o', 't'}
local p = tonumber(ARGV[1])
for j = 1, p do
  local uk, rk, a = KEYS[2 * j - 1], KEYS[2 * j], 1 + (j - 1) * 7
  local ai, ao, at = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3])
  if ai > 0 or ao > 0 or at > 0 then
    redis.call('HINCRBY', uk, 'i', ai)
    redis.call('HINCRBY', uk, 'o', ao)
    redis.call('HINCRBY', uk, 't', at)
    redis.call('PEXPIRE', uk, tonumber(ARGV[a + 7]))
  end
  if redis.call('EXISTS', rk) == 1 then
    for x = 1, 3 do
      local q = tonumber(ARGV[a + 3 + x])
      if q > 0 and redis.call('HINCRBY', rk, f[x], -q) < 0 then redis.call('HSET', rk, f[x], 0) end
    end
  end
end
local a = 1 + p * 7
local ttl = tonumber(ARGV[#ARGV])
for k = 2 * p + 1, #KEYS do
  local ek = KEYS[k]
  local c, bytes, ui, uo = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  a = a + 4
  local v = redis.call('HMGET', ek, 's', 'r', 'i', 'o')
  local s, r, i, o = tonumber(v[1]) or 0, tonumber(v[2]) or 0, tonumber(v[3]) or 0, tonumber(v[4]) or 0
  local ratio = r
  if bytes > 0 then ratio = ui / bytes end
  if s == 0 then
    r, i, o = ratio, ui / c, uo / c
  else
    local w = 1 - (1 - ${ALPHA}) ^ c
    r = r + w * (ratio - r)
    i = i + w * (ui / c - i)
    o = o + w * (uo / c - o)
  end
  redis.call('HSET', ek, 's', s + c, 'r', r, 'i', i, 'o', o)
  redis.call('PEXPIRE', ek, ttl)
end
return 1
`

const sha1 = (s: string): string => createHash('sha1').update(s).digest('hex')
export const CHECK_SHA = sha1(CHECK)
export const ADD_SHA = sha1(ADD)
