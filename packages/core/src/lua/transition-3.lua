--[[
  Guarded status change of one task, fenced by the runner token.

  KEYS[1] task hash
  KEYS[2] events stream
  KEYS[3] gate hash of the task (expires after a terminal transition)

  ARGV[1] runner token ('' for a system transition: cancel, reconciler, failed job)
  ARGV[2] target status
  ARGV[3] allowed source states (CSV, from the TS state machine)
  ARGV[4] extra fields (JSON object)
  ARGV[5] event type ('' for none)
  ARGV[6] event data (JSON)
  ARGV[7] events max length
  ARGV[8] gate TTL ms after a terminal status (0 keeps it)
  ARGV[9] task id

  Output: { code, previousStatus }  0 ok, -1 not found, -2 stale token, -3 illegal transition
]]
--- @include "includes/common"

local s = redis.call('HGET', KEYS[1], 'status')
if not s then return { -1, '' } end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'runner') ~= ARGV[1] then return { -2, s } end
if not allowedFrom(ARGV[3], s) then return { -3, s } end

local now = nowMs()
redis.call('HSET', KEYS[1], 'status', ARGV[2])
setFields(KEYS[1], cjson.decode(ARGV[4]))
if isTerminal(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'finishedAt', now)
  if tonumber(ARGV[8]) > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[8]) end
end
if ARGV[5] ~= '' then emit(KEYS[2], ARGV[7], ARGV[5], ARGV[9], ARGV[6], now) end
return { 0, s }
