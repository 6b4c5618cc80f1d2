--[[
  Shared provider limiter: feed it what one answer's headers said (parsed by
  the worker, see rate-limit-headers.ts). A hold (a 429/529 with
  retry-after, or "remaining 0" until the reset) empties the window's budget
  and extends `until` (never shortens it); the limit and window length,
  when known, let limiter-acquire-1 start the next window with a budget.
  Times are relative and read on the Redis clock, so workers' clocks do not
  need to agree.

  KEYS[1] limiter hash of the scope

  ARGV[1] hold ms from now (0: no hold)
  ARGV[2] request limit per window (0: unknown)
  ARGV[3] window ms (0: unknown)
  ARGV[4] grace ms: the hash lives this long past the end of its window

  Output: ms until the hold ends (0: no hold active)
]]
--- @include "includes/common"

local now = nowMs()
local hold = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until')) or 0

if limit > 0 then redis.call('HSET', KEYS[1], 'limit', limit) end
if window > 0 then
  local known = tonumber(redis.call('HGET', KEYS[1], 'window')) or 0
  if window > known then redis.call('HSET', KEYS[1], 'window', window) end
end
if hold > 0 then
  -- The provider is out for now: nothing more goes until the later of the two ends.
  if now + hold > untilMs then untilMs = now + hold end
  redis.call('HSET', KEYS[1], 'until', untilMs, 'left', 0)
end
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if untilMs < now then untilMs = now end
window = tonumber(redis.call('HGET', KEYS[1], 'window')) or 0
redis.call('PEXPIRE', KEYS[1], untilMs - now + window + grace)
return untilMs - now
