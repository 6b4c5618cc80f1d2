--[[
  A running task's turn boundary: park it if its session is paused, else
  (when a turn is given) record that the turn starts. Atomic with the session
  status, so a resume cannot slip in between the check and the park (which
  would leave the task parked in a running session). The runner's carried
  writes (messages and bookkeeping since its last script) are applied first,
  so a parked task's conversation is whole and the boundary costs no extra
  round trip.

  KEYS[1] session hash
  KEYS[2] task hash
  KEYS[3] parked set
  KEYS[4] events stream
  KEYS[5] conversation list

  ARGV[1] runner token
  ARGV[2] task id
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[4] turn about to start ('' for none: no turn.started event)
  ARGV[5..] carried writes (see includes/carried-writes): expected length, meta, messages

  Output: { code, length }  1 parked, 0 session not paused (carry on), -2 stale token,
    -3 task not running, -4 carried messages refused (the conversation's length)
]]
--- @include "includes/common"
--- @include "includes/carried-writes"

local paused = redis.call('HGET', KEYS[1], 'status') == 'paused'
local carries = (ARGV[5] or '') ~= '' or (ARGV[6] or '') ~= ''
if not paused and ARGV[4] == '' and not carries then return { 0, 0 } end
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then return { -2, 0 } end
if redis.call('HGET', KEYS[2], 'status') ~= 'running' then return { -3, 0 } end
local now = nowMs()
local code, len = applyCarried(KEYS[5], KEYS[2], KEYS[4], ARGV[3], ARGV[2], 5, now)
if code ~= 0 then return { code, len } end
if not paused then
  if ARGV[4] ~= '' then emit(KEYS[4], ARGV[3], 'turn.started', ARGV[2], cjson.encode({ turn = tonumber(ARGV[4]) }), now) end
  return { 0, len }
end
redis.call('HSET', KEYS[2], 'status', 'paused')
redis.call('SADD', KEYS[3], ARGV[2])
emit(KEYS[4], ARGV[3], 'task.paused', ARGV[2], '{}', now)
return { 1, len }
