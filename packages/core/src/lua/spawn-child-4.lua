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
  ARGV[5] max depth (a root is depth 0; the child's depth is its parent's + 1)
  ARGV[6] max children per task

  Output: 0 created, 1 already existed, -2 stale token, -3 parent not running,
    -20 the child would be deeper than max depth, -21 the parent has max children already
]]
--- @include "includes/common"

if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
if redis.call('HGET', KEYS[1], 'runner') ~= ARGV[1] then return -2 end
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return -3 end
-- Limits are checked after the existence check: a replayed spawn of a child created
-- before always finds it, even if the limits were lowered since.
-- Tasks created before depths were stored have none: counted as depth 0.
local depth = tonumber(redis.call('HGET', KEYS[1], 'depth') or '0') + 1
if depth > tonumber(ARGV[5]) then return -20 end
if redis.call('LLEN', KEYS[3]) >= tonumber(ARGV[6]) then return -21 end

local now = nowMs()
local fields = cjson.decode(ARGV[3])
setFields(KEYS[2], fields)
redis.call('HSET', KEYS[2], 'status', 'queued', 'createdAt', now, 'turns', 0, 'runner', 0, 'depth', depth)
redis.call('RPUSH', KEYS[3], ARGV[2])
emit(KEYS[4], ARGV[4], 'task.created', ARGV[2],
  cjson.encode({ mode = fields.mode, parentId = fields.parentId, rootId = fields.rootId }), now)
return 0
