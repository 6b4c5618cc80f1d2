--[[
  Last step of deleting a session (after stop-session, once no root holds the
  lease any more and the caller removed the jobs and task-index entries):
  delete every key of the session, every key of every task of its trees, and
  the idempotency keys of its roots.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] active list
  KEYS[4] parked set
  KEYS[5] fence counter
  KEYS[6] events stream
  KEYS[7] roots set
  KEYS[8] unindexed set

  ARGV[1] session key base

  Output: { code, taskIds }
    0 deleted (taskIds: the tasks whose keys went), 1 still stopping (a root holds the lease)
]]
--- @include "includes/common"
--- @include "includes/lifecycle"

if redis.call('LLEN', KEYS[3]) > 0 then return { 1, {} } end
local base = ARGV[1]
local roots = redis.call('ZRANGE', KEYS[7], 0, -1)
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do roots[#roots + 1] = id end
local ids = {}
for _, rootId in ipairs(roots) do
  local idem = idempotencyKeyOf(base, rootId)
  if idem then redis.call('DEL', idem) end
  for _, id in ipairs(treeIds(base, rootId, false)) do
    ids[#ids + 1] = id
    redis.call('DEL', taskKey(base, id), childrenKey(base, id), convKey(base, id), gateKey(base, id), convArchiveKey(base, id))
  end
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
return { 0, ids }
