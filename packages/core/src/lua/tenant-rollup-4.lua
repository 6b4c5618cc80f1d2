--[[
  Usage of a tenant, per UTC day: adds one recorded turn (a roll-up stored by
  record-usage-6.lua) exactly once, and settles the turn's tenant reservation
  (by id, on the day it was made). Applied by the recording worker, and again
  by a replay or the reconciler when a crash left the roll-up pending: the
  roll-up's id as a field of the markers hash (KEYS[1], in the tenant's slot:
  one hash per day the roll-up was recorded on and bucket of its id, so a
  given id always meets the same hash) refuses every application after the
  first. The markers hash expires ARGV[6] after its last application, so an
  id is remembered at least that long. Day keys expire (ARGV[5]): the history
  is bounded.

  KEYS[1] roll-up markers of the turn's day and id bucket (hash: id -> '', TTL ARGV[6])
  KEYS[2] tenant day hash of the turn's commit
  KEYS[3] tenant's reservations (hash: id -> "<tokens> <costUsd> <day>")
  KEYS[4] tenant's reservation deadlines (zset)

  ARGV[1] input tokens, ARGV[2] output tokens, ARGV[3] cached tokens
  ARGV[4] USD ('' unpriced)
  ARGV[5] day key TTL seconds
  ARGV[6] markers TTL seconds
  ARGV[7] roll-up id, also the reservation id (<taskId>:<turn>)
  ARGV[8] the tenant's day keys without the day

  Output: 1 applied now, 0 already applied (refused)
]]
--- @include "includes/tenant-reservation"
if redis.call('HSETNX', KEYS[1], ARGV[7], '') == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[6])
local k = KEYS[2]
redis.call('HINCRBY', k, 'in', ARGV[1])
redis.call('HINCRBY', k, 'out', ARGV[2])
redis.call('HINCRBY', k, 'cached', ARGV[3])
redis.call('HINCRBY', k, 'turns', 1)
if ARGV[4] == '' then redis.call('HINCRBY', k, 'unpriced', 1) else redis.call('HINCRBYFLOAT', k, 'cost', ARGV[4]) end
redis.call('EXPIRE', k, ARGV[5])
local resv = redis.call('HGET', KEYS[3], ARGV[7])
redis.call('ZREM', KEYS[4], ARGV[7])
if resv then
  redis.call('HDEL', KEYS[3], ARGV[7])
  giveBackTenantReservation(resv, ARGV[8])
end
return 1
