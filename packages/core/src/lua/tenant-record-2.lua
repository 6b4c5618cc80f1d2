--[[
  Usage of a tenant, per UTC day: adds a turn recorded by record-usage-4.lua
  (sent only when that script recorded it now, so a replay is not counted
  twice) and settles the turn's tenant reservation, kept on the day it was
  made. Day keys expire (ARGV[8]): the history is bounded.

  KEYS[1] tenant day hash of the turn's commit
  KEYS[2] tenant day hash of the reservation (= KEYS[1] most days)

  ARGV[1] input tokens, ARGV[2] output tokens, ARGV[3] cached tokens
  ARGV[4] USD ('' unpriced)
  ARGV[5] '1' when a reservation is to be settled
  ARGV[6] reserved tokens, ARGV[7] reserved USD
  ARGV[8] key TTL seconds

  Output: 1
]]
local k = KEYS[1]
redis.call('HINCRBY', k, 'in', ARGV[1])
redis.call('HINCRBY', k, 'out', ARGV[2])
redis.call('HINCRBY', k, 'cached', ARGV[3])
redis.call('HINCRBY', k, 'turns', 1)
if ARGV[4] == '' then redis.call('HINCRBY', k, 'unpriced', 1) else redis.call('HINCRBYFLOAT', k, 'cost', ARGV[4]) end
redis.call('EXPIRE', k, ARGV[8])
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'br:turns', -1)
  redis.call('HINCRBY', KEYS[2], 'br:tokens', -tonumber(ARGV[6]))
  redis.call('HINCRBYFLOAT', KEYS[2], 'br:cost', -tonumber(ARGV[7]))
end
return 1
