--[[
  Extend a fenced lock (lock-acquire), only with the token it holds.

  KEYS[1] lock key

  ARGV[1] token
  ARGV[2] lease ms

  Output: 1 extended, 0 lost (expired, or another holder has it)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
