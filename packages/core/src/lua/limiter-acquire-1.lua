--[[
  Shared provider limiter: ask to send one model request now. Every worker
  calls it before each attempt, so after a 429 (or "remaining 0") that one
  worker saw, all of them hold back until the provider's reset.

  The hash (see limiter-record-1) holds `until` (ms, end of the current
  hold or budget window), `left` (requests the window still allows, -1
  unknown), `limit` and `window` (the provider's request limit and window
  length, when it told them). When a hold ends and both are known, a new
  window starts here with `limit` requests: the waiters that wake together
  then take the budget one by one instead of all hitting the provider at
  once (and drawing a burst of 429s).

  KEYS[1] limiter hash of the scope

  ARGV[1] grace ms: the hash lives this long past the end of its window

  Output: 0 send now, else the ms to wait before asking again
]]
--- @include "includes/common"

local now = nowMs()
local h = redis.call('HMGET', KEYS[1], 'until', 'left', 'limit', 'window')
local untilMs = tonumber(h[1])
if not untilMs then return 0 end
local left = tonumber(h[2]) or -1
local limit = tonumber(h[3]) or 0
local window = tonumber(h[4]) or 0
local grace = tonumber(ARGV[1])

if now >= untilMs then
  -- The hold is over. Without a known budget, every worker may go (the provider says what comes next).
  if limit <= 0 or window <= 0 then return 0 end
  untilMs = now + window
  left = limit
end
if left == 0 then return untilMs - now end
if left > 0 then left = left - 1 end
redis.call('HSET', KEYS[1], 'until', untilMs, 'left', left)
redis.call('PEXPIRE', KEYS[1], untilMs - now + window + grace)
return 0
