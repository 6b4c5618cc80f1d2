--[[
  Drop a session from the reconciler's index, unless it was touched since the
  reconciler looked (a submit re-adds it with a newer score first).

  KEYS[1] session index (sorted set: sessionId -> last touch ms)

  ARGV[1] session id
  ARGV[2] score the reconciler saw

  Output: 1 removed, 0 kept
]]
if redis.call('ZSCORE', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 1
end
return 0
