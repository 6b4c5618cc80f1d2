--[[
  First step of deleting a session: mark it deleting (submits are refused from
  now on) and cancel every tree that is not over, like cancel does. Lists
  what the caller must remove outside this slot before delete-session runs.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] active list
  KEYS[4] parked set
  KEYS[5] fence counter
  KEYS[6] events stream
  KEYS[7] roots set

  ARGV[1] session key base
  ARGV[2] reason
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[4] gate TTL ms for the cancelled tasks' committed responses

  Output: { code, cancelledPairs, taskIds }
    0 ok, -1 nothing of the session exists
    taskIds: every task of every tree of the session
]]
--- @include "includes/common"
--- @include "includes/cancel-tree"

local exists = 0
for i = 1, 7 do exists = exists + redis.call('EXISTS', KEYS[i]) end
if exists == 0 then return { -1, {}, {} } end

local now = nowMs()
redis.call('HSET', KEYS[1], 'deleting', now)
local roots = redis.call('ZRANGE', KEYS[7], 0, -1)
for _, list in ipairs({ KEYS[3], KEYS[2] }) do
  for _, id in ipairs(redis.call('LRANGE', list, 0, -1)) do roots[#roots + 1] = id end
end
local cancelled, ids, seen = {}, {}, {}
for _, rootId in ipairs(roots) do
  if not seen[rootId] then
    seen[rootId] = true
    cancelTree(ARGV[1], rootId, KEYS[2], KEYS[4], KEYS[5], KEYS[6], ARGV[3], ARGV[2], now, ARGV[4], cancelled)
    for _, id in ipairs(treeIds(ARGV[1], rootId, false)) do ids[#ids + 1] = id end
  end
end
return { 0, cancelled, ids }
