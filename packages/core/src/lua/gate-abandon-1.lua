--[[
  Request gate: give a lease back without a response (the call failed for
  good or was aborted), so a waiting duplicate may take over at once.

  KEYS[1] gate hash of the task

  ARGV[1] turn
  ARGV[2] gate token
  ARGV[3] notification channel
  ARGV[4] notification message (the turn key)

  Output: 1 released, 0 not the holder
]]
local t = ARGV[1]
if redis.call('HGET', KEYS[1], t .. ':state') ~= 'inflight' then return 0 end
if redis.call('HGET', KEYS[1], t .. ':token') ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], t .. ':state', t .. ':token', t .. ':until', t .. ':runner')
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
