--[[
  Take a fenced lock (e.g. the reconciler's): if it is free, store a fresh
  fencing token in it with a lease. Renew and release go through with that
  token only, so a holder whose lease ran out (a pass that took too long)
  can neither extend nor delete the lock a newer holder took since.

  KEYS[1] lock key
  KEYS[2] fence counter of the lock (same slot)

  ARGV[1] lease ms

  Output: the token (a string) when taken, 0 when another holder has it
]]
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = tostring(redis.call('INCR', KEYS[2]))
redis.call('SET', KEYS[1], token, 'PX', ARGV[1])
return token
