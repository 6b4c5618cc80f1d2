--[[
  Hand the session lease to lane heads while the session has room.
  Returns the ids of the root tasks that must now become BullMQ jobs.
  A paused session dispatches nothing. Also recomputes idle/running; a
  session left idle with no open tree starts to expire (lifecycle).
]]
--- @include "includes/lifecycle"

local function dispatch(sessionKey, laneKey, activeKey, base, now)
  local out = {}
  local status = redis.call('HGET', sessionKey, 'status')
  if status ~= 'paused' then
    local conc = tonumber(redis.call('HGET', sessionKey, 'concurrency') or '1') or 1
    while redis.call('LLEN', activeKey) < conc do
      local id = redis.call('LPOP', laneKey)
      if not id then break end
      local tk = taskKey(base, id)
      -- A root cancelled while queued is removed from the lane; skip anything not queued anyway.
      if redis.call('HGET', tk, 'status') == 'queued' then
        redis.call('RPUSH', activeKey, id)
        redis.call('HSET', tk, 'dispatchedAt', now)
        out[#out + 1] = id
      end
    end
    local busy = redis.call('LLEN', activeKey) > 0 or redis.call('LLEN', laneKey) > 0
    redis.call('HSET', sessionKey, 'status', busy and 'running' or 'idle')
    if not busy then expireSessionIfDone(base, now) end
  end
  return out
end
