--[[
  Budgets of a tenant: give back a reservation of tenant-reserve-1.lua (the
  turn ended without a commit, or the session side refused after it).

  KEYS[1] tenant day hash of the reservation

  ARGV[1] reserved tokens
  ARGV[2] reserved USD

  Output: 1
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
redis.call('HINCRBY', KEYS[1], 'br:turns', -1)
redis.call('HINCRBY', KEYS[1], 'br:tokens', -tonumber(ARGV[1]))
redis.call('HINCRBYFLOAT', KEYS[1], 'br:cost', -tonumber(ARGV[2]))
return 1
