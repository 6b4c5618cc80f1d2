--[[
  Cancel a task and all its descendants (depth-first over children lists).
  Each cancelled task gets a fresh runner fence so that whatever still runs
  it can no longer write; queued roots leave the lane; parked tasks leave the
  parked set; committed gate responses expire `gateTtl` ms later (0 keeps
  them). Appends {id, previousStatus} pairs to `out`. When that leaves the
  whole tree terminal, the tree is closed (lifecycle: its keys expire).
]]
--- @include "includes/lifecycle"

local function cancelTree(base, rootId, laneKey, parkedKey, fenceKey, eventsKey, maxlen, reason, now, gateTtl, out)
  local before = #out
  local stack = { rootId }
  while #stack > 0 do
    local id = table.remove(stack)
    local tk = taskKey(base, id)
    local s = redis.call('HGET', tk, 'status')
    if s and not isTerminal(s) then
      local fence = redis.call('INCR', fenceKey)
      redis.call('HSET', tk, 'status', 'cancelled', 'finishedAt', now, 'runner', fence,
        'errorCode', 'cancelled', 'errorMessage', reason)
      redis.call('LREM', laneKey, 0, id)
      redis.call('SREM', parkedKey, id)
      if tonumber(gateTtl) > 0 then redis.call('PEXPIRE', gateKey(base, id), gateTtl) end
      emit(eventsKey, maxlen, 'task.cancelled', id, cjson.encode({ from = s, reason = reason }), now)
      out[#out + 1] = id
      out[#out + 1] = s
    end
    local kids = redis.call('LRANGE', childrenKey(base, id), 0, -1)
    for _, k in ipairs(kids) do stack[#stack + 1] = k end
  end
  if #out > before then closeTreeOf(base, rootId, now) end
end
