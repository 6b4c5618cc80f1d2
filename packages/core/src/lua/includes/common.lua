--[[
  Shared helpers, inlined into every script by the loader (lua-scripts.ts).
  Task keys are built from the session base exactly as keys.ts does:
    <base>:task:<id>, <base>:task:<id>:children, <base>:task:<id>:gate, <base>:task:<id>:conv
]]
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function taskKey(base, id) return base .. ':task:' .. id end
local function childrenKey(base, id) return base .. ':task:' .. id .. ':children' end
local function gateKey(base, id) return base .. ':task:' .. id .. ':gate' end
local function convKey(base, id) return base .. ':task:' .. id .. ':conv' end

local function isTerminal(s) return s == 'completed' or s == 'failed' or s == 'cancelled' end

-- `csv` is a comma-separated list of allowed source states (from the TS state machine).
local function allowedFrom(csv, s)
  for state in string.gmatch(csv, '[^,]+') do
    if state == s then return true end
  end
  return false
end

-- Append one event to the session stream. `trim` is `<maxLen>` or `<maxLen>:<maxAgeMs>`
-- (EngineContext.eventsTrim): the stream is capped by count (MAXLEN ~) and, with an age,
-- events older than that leave too (MINID ~). Both approximate, so the cost stays O(1)
-- amortised: Redis drops whole stream nodes only.
local function emit(eventsKey, trim, etype, taskId, data, now)
  local maxlen, maxAge = string.match(tostring(trim), '^(%d+):(%d+)$')
  if not maxlen then maxlen, maxAge = trim, '0' end
  local id = redis.call('XADD', eventsKey, 'MAXLEN', '~', maxlen, '*',
    'type', etype, 'task', taskId or '', 'at', tostring(now), 'data', data or '{}')
  if tonumber(maxAge) > 0 then
    redis.call('XTRIM', eventsKey, 'MINID', '~', string.format('%d', now - tonumber(maxAge)))
  end
  return id
end

local function setFields(key, fields)
  local args = {}
  for k, v in pairs(fields) do
    if v ~= cjson.null then
      args[#args + 1] = k
      args[#args + 1] = tostring(v)
    end
  end
  if #args > 0 then redis.call('HSET', key, unpack(args)) end
end
