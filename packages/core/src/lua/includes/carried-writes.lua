--[[
  A runner's carried writes: conversation messages and turn bookkeeping that
  the runner produced since its last script, applied by the next fenced
  script it sends anyway (turn boundary, transition, append) instead of by a
  round trip of their own. The caller has checked the runner token.

  Packed at the tail of ARGV, from index `at`:
    ARGV[at]     expected conversation length ('' when no message is carried)
    ARGV[at+1]   JSON { f = { field = value, ... }, e = { { type, dataJson }, ... },
                        rk = pending roll-ups hash of the session, r = { rollupId, ... } }, or ''
                 (r: roll-ups this runner applied to their targets: forgotten here, a round
                 trip after the application instead of one of their own)
    ARGV[at+2..] messages (JSON), appended in order

  Returns code, length: 0 applied (the new length; -1 when no message was
  carried), -4 the conversation does not have the expected length (its
  current length; nothing applied).

  The append is idempotent for its runner as append-messages is: if these
  exact messages already sit at the expected position, it is a re-send of an
  applied call whose reply was lost, and it answers ok without writing again.
]]
local function carriedAppend(convKey, at)
  local expectedArg = ARGV[at]
  if expectedArg == nil or expectedArg == '' then return 0, -1, false end
  local len = redis.call('LLEN', convKey)
  local expected = tonumber(expectedArg)
  local n = #ARGV - at - 1
  if len ~= expected then
    if len == expected + n and n > 0 then
      local tail = redis.call('LRANGE', convKey, expected, expected + n - 1)
      for i = 1, n do
        if tail[i] ~= ARGV[at + 1 + i] then return -4, len, false end
      end
      return 0, len, true
    end
    return -4, len, false
  end
  for i = at + 2, #ARGV do redis.call('RPUSH', convKey, ARGV[i]) end
  return 0, len + n, false
end

-- Applies the carried writes; `resent` (an applied call sent again) skips the fields and events.
local function applyCarried(convKey, taskKey, eventsKey, trim, taskId, at, now)
  local code, len, resent = carriedAppend(convKey, at)
  if code ~= 0 or resent then return code, len end
  local meta = ARGV[at + 1]
  if meta ~= nil and meta ~= '' then
    local m = cjson.decode(meta)
    if m.f then setFields(taskKey, m.f) end
    if m.e then
      for _, ev in ipairs(m.e) do emit(eventsKey, trim, ev[1], taskId, ev[2], now) end
    end
    if m.r and #m.r > 0 then redis.call('HDEL', m.rk, unpack(m.r)) end
  end
  return 0, len
end
