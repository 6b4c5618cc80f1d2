--[[
  Request gate: extend a granted lease while the model call runs.

  KEYS[1] gate hash of the task
  KEYS[2] task hash

  ARGV[1] turn
  ARGV[2] gate token
  ARGV[3] lease ms

  Output: 1 renewed, 0 lease lost (another caller holds it, it was committed, or the runner was fenced out)
]]
--- @include "includes/common"

local t = ARGV[1]
if redis.call('HGET', KEYS[1], t .. ':state') ~= 'inflight' then return 0 end
if redis.call('HGET', KEYS[1], t .. ':token') ~= ARGV[2] then return 0 end
local holder = redis.call('HGET', KEYS[1], t .. ':runner') or ''
if holder ~= '' and holder ~= redis.call('HGET', KEYS[2], 'runner') then return 0 end
redis.call('HSET', KEYS[1], t .. ':until', nowMs() + tonumber(ARGV[3]))
return 1
