--[[
  Park a running task at a turn boundary because its session is paused.
  Atomic with the session status, so a resume cannot slip in between the
  check and the park (which would leave the task parked in a running session).

  KEYS[1] session hash
  KEYS[2] task hash
  KEYS[3] parked set
  KEYS[4] events stream

  ARGV[1] runner token
  ARGV[2] task id
  ARGV[3] events max length

  Output: 1 parked, 0 session not paused (carry on), -2 stale token, -3 task not running
]]
--- @include "includes/common"

if redis.call('HGET', KEYS[1], 'status') ~= 'paused' then return 0 end
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then return -2 end
if redis.call('HGET', KEYS[2], 'status') ~= 'running' then return -3 end
local now = nowMs()
redis.call('HSET', KEYS[2], 'status', 'paused')
redis.call('SADD', KEYS[3], ARGV[2])
emit(KEYS[4], ARGV[3], 'task.paused', ARGV[2], '{}', now)
return 1
