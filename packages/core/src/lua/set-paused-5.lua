--[[
  Pause or resume a session. Idempotent. Resuming dispatches lane heads and
  returns the parked tasks whose delayed jobs must be promoted.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] active list
  KEYS[4] parked set
  KEYS[5] events stream

  ARGV[1] session key base
  ARGV[2] '1' pause, '0' resume
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)

  Output: { changed (0|1), dispatchedIds, parkedIds }
]]
--- @include "includes/common"
--- @include "includes/dispatch"

local now = nowMs()
local status = redis.call('HGET', KEYS[1], 'status') or 'idle'
if ARGV[2] == '1' then
  if status == 'paused' then return { 0, {}, {} } end
  -- A paused session is kept, even with nothing in it (a resume lets it expire again).
  persistSession(ARGV[1], now)
  redis.call('HSET', KEYS[1], 'status', 'paused')
  emit(KEYS[5], ARGV[3], 'session.paused', '', '{}', now)
  return { 1, {}, {} }
end
if status ~= 'paused' then return { 0, {}, redis.call('SMEMBERS', KEYS[4]) } end
redis.call('HSET', KEYS[1], 'status', 'running')
emit(KEYS[5], ARGV[3], 'session.resumed', '', '{}', now)
local dispatched = dispatch(KEYS[1], KEYS[2], KEYS[3], ARGV[1], now)
return { 1, dispatched, redis.call('SMEMBERS', KEYS[4]) }
