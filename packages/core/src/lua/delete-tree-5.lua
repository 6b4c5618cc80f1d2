--[[
  Delete a finished root's whole tree: every key of every task of it and the
  root's idempotency key. Refused on a subtask, and while any task of the
  tree is not terminal or the root still holds the session lease (a
  cancelled root's job is still stopping). The task ids go to the session's
  unindexed set: the caller removes their task-index entries and jobs (the
  reconciler does, after a crash).

  KEYS[1] root task hash
  KEYS[2] roots set
  KEYS[3] active list
  KEYS[4] unindexed set
  KEYS[5] session hash

  ARGV[1] session key base
  ARGV[2] root id

  Output: { code, taskIds }
    0 deleted, -1 not found, -3 not terminal (or still stopping), -9 not a root
]]
--- @include "includes/common"
--- @include "includes/lifecycle"

local base, rootId = ARGV[1], ARGV[2]
if redis.call('EXISTS', KEYS[1]) == 0 then return { -1, {} } end
if (redis.call('HGET', KEYS[1], 'parentId') or '') ~= '' then return { -9, {} } end
local ids = treeIds(base, rootId, true)
if not ids then return { -3, {} } end
if redis.call('LPOS', KEYS[3], rootId) then return { -3, {} } end

local idem = idempotencyKeyOf(base, rootId)
if idem then redis.call('DEL', idem) end
for _, id in ipairs(ids) do
  redis.call('DEL', taskKey(base, id), childrenKey(base, id), convKey(base, id), gateKey(base, id), convArchiveKey(base, id))
end
redis.call('ZREM', KEYS[2], rootId)
addAll(KEYS[4], ids)
-- The tree may have been the session's last: then the session starts to expire.
if redis.call('EXISTS', KEYS[5]) == 1 then expireSessionIfDone(base, nowMs()) end
return { 0, ids }
