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
--- @include "includes/tenant-reservation"
local resv = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if not resv then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
giveBackTenantReservation(resv, ARGV[2])
return 1
