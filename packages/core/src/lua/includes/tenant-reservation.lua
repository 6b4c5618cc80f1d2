--[[
  A tenant reservation given back (released, settled by a roll-up, or
  expired): its amounts leave the day's reserved totals (`br:*` of the day
  key, when that day is still kept). `resv` is the stored
  "<tokens> <costUsd> <day>"; `dayPrefix` the tenant's day keys without the day.
  The caller removes the reservation itself (hash field and deadline).
]]
local function giveBackTenantReservation(resv, dayPrefix)
  local tokens, cost, day = string.match(resv, '^(%S+) (%S+) (%S+)$')
  local dk = dayPrefix .. day
  if redis.call('EXISTS', dk) == 1 then
    redis.call('HINCRBY', dk, 'br:turns', -1)
    redis.call('HINCRBY', dk, 'br:tokens', -tonumber(tokens))
    redis.call('HINCRBYFLOAT', dk, 'br:cost', -tonumber(cost))
  end
end
