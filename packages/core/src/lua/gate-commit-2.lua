--[[
  Request gate: commit the response of a turn, only with the current token
  (and, for a runner's lease, only while that runner is not fenced out).
  Wakes the callers waiting on this key.

  KEYS[1] gate hash of the task
  KEYS[2] task hash

  ARGV[1] turn
  ARGV[2] gate token
  ARGV[3] response (JSON)
  ARGV[4] notification channel
  ARGV[5] notification message (the turn key)

  Output: 1 committed, -2 stale token
]]
local t = ARGV[1]
local state = redis.call('HGET', KEYS[1], t .. ':state')
-- Already committed with this very token: a client re-send (e.g. after a Redis restart) of a
-- commit whose reply was lost. Answer as the first time did.
if state == 'committed' and redis.call('HGET', KEYS[1], t .. ':token') == ARGV[2] then return 1 end
if state ~= 'inflight' then return -2 end
if redis.call('HGET', KEYS[1], t .. ':token') ~= ARGV[2] then return -2 end
local holder = redis.call('HGET', KEYS[1], t .. ':runner') or ''
if holder ~= '' and holder ~= redis.call('HGET', KEYS[2], 'runner') then return -2 end
redis.call('HSET', KEYS[1], t .. ':state', 'committed', t .. ':response', ARGV[3])
redis.call('HDEL', KEYS[1], t .. ':until')
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
