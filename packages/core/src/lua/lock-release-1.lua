--[[
  Release a fenced lock (lock-acquire), only with the token it holds.

  KEYS[1] lock key

  ARGV[1] token

  Output: 1 released, 0 not the holder (nothing deleted)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
