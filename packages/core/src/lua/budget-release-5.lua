--[[
  Budgets: give back a turn's reservation (budget-reserve-5.lua) when the
  turn ends without a committed response (the call failed, the task was
  cancelled). A committed turn's reservation is settled by record-usage-6.lua
  instead. Releasing twice, or a turn never reserved (or whose reservation
  expired), is a no-op.

  KEYS[1] gate hash of the task
  KEYS[2] task hash (unused but for the slot; kept so the key list matches reserve)
  KEYS[3] root task hash
  KEYS[4] session hash
  KEYS[5] session's reservation deadlines (zset)

  ARGV[1] turn
  ARGV[2] the reservation's member in KEYS[5]

  Output: { 1, reservation } released ("<tokens> <costUsd> <day>"), { 0 } nothing reserved
]]
local field = ARGV[1] .. ':resv'
local resv = redis.call('HGET', KEYS[1], field)
redis.call('ZREM', KEYS[5], ARGV[2])
if not resv then return { 0 } end
if redis.call('HGET', KEYS[1], ARGV[1] .. ':state') == 'committed' then return { 0 } end
local tokens, cost = string.match(resv, '^(%S+) (%S+)')
redis.call('HDEL', KEYS[1], field)
for _, key in ipairs({ KEYS[3], KEYS[4] }) do
  redis.call('HINCRBY', key, 'br:turns', -1)
  redis.call('HINCRBY', key, 'br:tokens', -tonumber(tokens))
  redis.call('HINCRBYFLOAT', key, 'br:cost', -tonumber(cost))
end
return { 1, resv }
