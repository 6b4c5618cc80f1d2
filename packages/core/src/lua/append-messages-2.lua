--[[
  Compare-and-set append to a task's conversation: refused unless the runner
  token is current and the conversation has exactly the expected length.

  KEYS[1] conversation list
  KEYS[2] task hash
  

  ARGV[1] runner token
  ARGV[2] expected length
  ARGV[3..n] messages (JSON)

  Output: { code, length }  0 ok (new length), -2 stale token, -4 length mismatch (current length)
]]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then
  return { -2, redis.call('LLEN', KEYS[1]) }
end
local len = redis.call('LLEN', KEYS[1])
if len ~= tonumber(ARGV[2]) then return { -4, len } end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return { 0, len + #ARGV - 2 }
