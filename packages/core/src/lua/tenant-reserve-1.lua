--[[
  Budgets of a tenant, per UTC day: check and reserve a turn's estimate on the
  tenant's day hash (outside any session slot, so a script of its own, run
  after budget-reserve-4.lua reserved the session side). Refused when spent
  plus reserved has reached a limit. Settled by tenant-record-2.lua or
  tenant-release-1.lua.

  KEYS[1] tenant day hash (fields in, out, cached, cost, turns, unpriced, br:*)

  ARGV[1] estimated tokens
  ARGV[2] estimated USD
  ARGV[3] max tokens per day ('' none)
  ARGV[4] max USD per day ('' none)
  ARGV[5] max turns per day ('' none)
  ARGV[6] key TTL seconds

  Output: { 1 } reserved, { -30, 'tenant', budget, limit, spent } over budget
]]
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
return { 1 }
