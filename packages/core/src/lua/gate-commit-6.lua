--[[
  Request gate: commit the response of a turn, only with the current token
  (and, for a runner's lease, only while that runner is not fenced out).
  Wakes the callers waiting on this key. With usage arguments, the turn's
  usage is counted in the same step (includes/record-usage), so a committed
  turn costs one script where it cost two; a runner-less lease (no fence to
  check) leaves usage to record-usage-6.

  KEYS[1] gate hash of the task
  KEYS[2] task hash
  KEYS[3] root task hash (= KEYS[2] for a root, or when no usage is given)
  KEYS[4] session hash
  KEYS[5] session's reservation deadlines (zset)
  KEYS[6] session's pending roll-ups (hash)

  ARGV[1] turn
  ARGV[2] gate token
  ARGV[3] response (JSON)
  ARGV[4] notification channel
  ARGV[5] notification message (the turn key)
  ARGV[6..12] optional usage: input, output, cached tokens, USD ('' unpriced),
              reservation member, roll-up id, roll-up payload (see record-usage-6)

  Output: { 1, usage } committed, usage = { 1, reservation, pending } recorded,
          { 0 } already recorded, or absent (not asked, or a runner-less lease)
          { -2 } stale token
]]
--- @include "includes/record-usage"

local t = ARGV[1]
local keys = { gate = KEYS[1], task = KEYS[2], root = KEYS[3], session = KEYS[4], reservations = KEYS[5], rollups = KEYS[6] }
local function usage(holder)
  if ARGV[6] == nil or holder == '' then return nil end
  return recordTurnUsage(keys, t, 6)
end

local state = redis.call('HGET', KEYS[1], t .. ':state')
local holder = redis.call('HGET', KEYS[1], t .. ':runner') or ''
-- Already committed with this very token: a client re-send (e.g. after a Redis restart) of a
-- commit whose reply was lost. Answer as the first time did.
if state == 'committed' and redis.call('HGET', KEYS[1], t .. ':token') == ARGV[2] then return { 1, usage(holder) } end
if state ~= 'inflight' then return { -2 } end
if redis.call('HGET', KEYS[1], t .. ':token') ~= ARGV[2] then return { -2 } end
if holder ~= '' and holder ~= redis.call('HGET', KEYS[2], 'runner') then return { -2 } end
redis.call('HSET', KEYS[1], t .. ':state', 'committed', t .. ':response', ARGV[3])
redis.call('HDEL', KEYS[1], t .. ':until')
redis.call('PUBLISH', ARGV[4], ARGV[5])
return { 1, usage(holder) }
