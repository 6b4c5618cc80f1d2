--[[
  A running task's turn boundary: park it if its session is paused, else
  (when a turn is given) record that the turn starts. Atomic with the session
  status, so a resume cannot slip in between the check and the park (which
  would leave the task parked in a running session).

  KEYS[1] session hash
  KEYS[2] task hash
  KEYS[3] parked set
  KEYS[4] events stream

  ARGV[1] runner token
  ARGV[2] task id
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[4] turn about to start ('' for none: no turn.started event)

  Output: 1 parked, 0 session not paused (carry on), -2 stale token, -3 task not running
]]
--- @include "includes/common"

local paused = redis.call('HGET', KEYS[1], 'status') == 'paused'
if not paused and ARGV[4] == '' then return 0 end
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then return -2 end
if redis.call('HGET', KEYS[2], 'status') ~= 'running' then return -3 end
local now = nowMs()
if not paused then
  emit(KEYS[4], ARGV[3], 'turn.started', ARGV[2], cjson.encode({ turn = tonumber(ARGV[4]) }), now)
  return 0
end
redis.call('HSET', KEYS[2], 'status', 'paused')
redis.call('SADD', KEYS[3], ARGV[2])
emit(KEYS[4], ARGV[3], 'task.paused', ARGV[2], '{}', now)
return 1
