--[[
  Budgets of a tenant: give back a reservation of tenant-reserve-3.lua by id
  (the turn ended without a commit, or the session side refused after it).
  A reservation already settled, released or expired: a no-op.

  KEYS[1] tenant's reservations (hash: id -> "<tokens> <costUsd> <day>")
  KEYS[2] tenant's reservation deadlines (zset)

  ARGV[1] reservation id
  ARGV[2] the tenant's day keys without the day

  Output: 1 released, 0 nothing reserved
]]
local resv = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if not resv then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
local tokens, cost, day = string.match(resv, '^(%S+) (%S+) (%S+)$')
local dk = ARGV[2] .. day
if redis.call('EXISTS', dk) == 1 then
  redis.call('HINCRBY', dk, 'br:turns', -1)
  redis.call('HINCRBY', dk, 'br:tokens', -tonumber(tokens))
  redis.call('HINCRBYFLOAT', dk, 'br:cost', -tonumber(cost))
end
return 1
