--[[
  Compare-and-set append to a task's conversation: refused unless the runner
  token is current and the conversation has exactly the expected length.

  KEYS[1] conversation list
  KEYS[2] task hash
  

  ARGV[1] runner token
  ARGV[2] expected length
  ARGV[3..n] messages (JSON)

  Output: { code, length }  0 ok (new length), -2 stale token, -4 length mismatch (current length)

  Idempotent for its runner: if these exact messages already sit at the expected
  position, the call is a re-send of an append that was applied but whose reply
  was lost (ioredis re-sends unanswered commands after a reconnect, e.g. when
  Redis crashed after fsyncing the write): answer ok instead of a conflict.
]]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then
  return { -2, redis.call('LLEN', KEYS[1]) }
end
local len = redis.call('LLEN', KEYS[1])
local expected = tonumber(ARGV[2])
local n = #ARGV - 2
if len ~= expected then
  if len == expected + n and n > 0 then
    local tail = redis.call('LRANGE', KEYS[1], expected, expected + n - 1)
    local same = true
    for i = 1, n do
      if tail[i] ~= ARGV[i + 2] then same = false break end
    end
    if same then return { 0, len } end
  end
  return { -4, len }
end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return { 0, len + #ARGV - 2 }
