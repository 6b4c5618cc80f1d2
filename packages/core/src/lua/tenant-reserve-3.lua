--[[
  Budgets of a tenant, per UTC day: check and reserve a turn's estimate on the
  tenant's day hash (outside any session slot, so a script of its own, run
  after budget-reserve-5.lua reserved the session side). Refused when spent
  plus reserved has reached a limit. Settled by tenant-rollup-4.lua or
  tenant-release-2.lua, both by the reservation's id.

  Crash safety, as on the session side: each reservation is kept by id
  (KEYS[2]) with a deadline (KEYS[3]); expired ones are dropped first (at
  most 100 a call) from the day they were made on. Reserving an id again (a
  replayed turn, or a worker that crashed between the session and the tenant
  reserve) does not reserve twice: it pushes the deadline.

  KEYS[1] tenant day hash (fields in, out, cached, cost, turns, unpriced, br:*)
  KEYS[2] tenant's reservations (hash: id -> "<tokens> <costUsd> <day>")
  KEYS[3] tenant's reservation deadlines (zset: id, score ms)

  ARGV[1] estimated tokens
  ARGV[2] estimated USD
  ARGV[3] max tokens per day ('' none)
  ARGV[4] max USD per day ('' none)
  ARGV[5] max turns per day ('' none)
  ARGV[6] key TTL seconds
  ARGV[7] reservation id (<taskId>:<turn>)
  ARGV[8] lifetime of the reservation, ms
  ARGV[9] the tenant's day keys without the day (KEYS[1] = ARGV[9] .. day)
  ARGV[10] day (YYYY-MM-DD) of KEYS[1]

  Output: { 1 } reserved, { 2 } already reserved (deadline pushed),
          { -30, 'tenant', budget, limit, spent } over budget
]]
--- @include "includes/common"
--- @include "includes/tenant-reservation"

local now = nowMs()
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, 100)) do
  local resv = redis.call('HGET', KEYS[2], id)
  if resv then
    giveBackTenantReservation(resv, ARGV[9])
    redis.call('HDEL', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[3], id)
end

if redis.call('HEXISTS', KEYS[2], ARGV[7]) == 1 then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), ARGV[7])
  return { 2 }
end

local function num(field) return tonumber(redis.call('HGET', KEYS[1], field) or '0') or 0 end
local turns = num('turns') + num('br:turns')
if ARGV[5] ~= '' and turns >= tonumber(ARGV[5]) then return { -30, 'tenant', 'maxTurns', ARGV[5], tostring(turns) } end
local tokens = num('in') + num('out') + num('br:tokens')
if ARGV[3] ~= '' and tokens >= tonumber(ARGV[3]) then return { -30, 'tenant', 'maxTokens', ARGV[3], tostring(tokens) } end
local cost = num('cost') + num('br:cost')
if ARGV[4] ~= '' and cost >= tonumber(ARGV[4]) then return { -30, 'tenant', 'maxCostUsd', ARGV[4], tostring(cost) } end
redis.call('HINCRBY', KEYS[1], 'br:turns', 1)
redis.call('HINCRBY', KEYS[1], 'br:tokens', ARGV[1])
redis.call('HINCRBYFLOAT', KEYS[1], 'br:cost', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('HSET', KEYS[2], ARGV[7], ARGV[1] .. ' ' .. ARGV[2] .. ' ' .. ARGV[10])
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[8]), ARGV[7])
redis.call('EXPIRE', KEYS[2], ARGV[6])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return { 1 }
