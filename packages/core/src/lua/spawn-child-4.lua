--[[
  Record a subtask of a running parent. Deterministic child id: a replayed
  spawn (the parent's job re-run after a crash) finds the child and is a no-op.

  KEYS[1] parent task hash
  KEYS[2] child task hash
  KEYS[3] parent children list
  KEYS[4] events stream

  ARGV[1] parent runner token
  ARGV[2] child id
  ARGV[3] child fields (JSON object)
  ARGV[4] events trim (`<maxLen>:<maxAgeMs>`, see emit)

  Output: 0 created, 1 already existed, -2 stale token, -3 parent not running
]]
--- @include "includes/common"

if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
if redis.call('HGET', KEYS[1], 'runner') ~= ARGV[1] then return -2 end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return -3 end

local now = nowMs()
local fields = cjson.decode(ARGV[3])
setFields(KEYS[2], fields)
redis.call('HSET', KEYS[2], 'status', 'queued', 'createdAt', now, 'turns', 0, 'runner', 0)
redis.call('RPUSH', KEYS[3], ARGV[2])
emit(KEYS[4], ARGV[4], 'task.created', ARGV[2],
  cjson.encode({ mode = fields.mode, parentId = fields.parentId, rootId = fields.rootId }), now)
return 0
