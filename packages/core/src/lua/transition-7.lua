--[[
  Guarded status change of one task, fenced by the runner token. When a root
  task becomes terminal its tree is over: the same step releases its session
  lease and dispatches the next roots (no crash window between the two).
  A runner's carried writes (its last messages and turn bookkeeping) are
  applied first, in the same step: a task's last answer and its terminal
  status land together, at no extra round trip.

  KEYS[1] task hash
  KEYS[2] events stream
  KEYS[3] gate hash of the task (expires after a terminal transition)
  KEYS[4] session hash
  KEYS[5] lane list
  KEYS[6] active list
  KEYS[7] conversation list

  ARGV[1] runner token ('' for a system transition: cancel, reconciler, failed job)
  ARGV[2] target status
  ARGV[3] allowed source states (CSV, from the TS state machine)
  ARGV[4] extra fields (JSON object)
  ARGV[5] event type ('' for none)
  ARGV[6] event data (JSON)
  ARGV[7] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[8] gate TTL ms after a terminal status (0 keeps it)
  ARGV[9] task id
  ARGV[10] session key base
  ARGV[11..] carried writes (see includes/carried-writes): expected length, meta, messages

  Output: { code, previousStatus, dispatchedIds, closedIds, closedAt }
    0 ok, -1 not found, -2 stale token, -3 illegal transition,
    -4 carried messages refused (previousStatus is then the conversation's length)
    closedIds: task ids this transition handed to the session's unindexed set
    (its tree became all terminal and now expires at closedAt, epoch ms, see
    includes/lifecycle); the caller gives their task-index entries that deadline
]]
--- @include "includes/common"
--- @include "includes/dispatch"
--- @include "includes/carried-writes"

local s = redis.call('HGET', KEYS[1], 'status')
if not s then return { -1, '', {} } end
if ARGV[1] ~= '' and redis.call('HGET', KEYS[1], 'runner') ~= ARGV[1] then return { -2, s, {} } end
if not allowedFrom(ARGV[3], s) then return { -3, s, {} } end

local now = nowMs()
local carried, len = applyCarried(KEYS[7], KEYS[1], KEYS[2], ARGV[7], ARGV[9], 11, now)
if carried ~= 0 then return { carried, tostring(len), {} } end
redis.call('HSET', KEYS[1], 'status', ARGV[2])
setFields(KEYS[1], cjson.decode(ARGV[4]))
if isTerminal(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'finishedAt', now)
  if tonumber(ARGV[8]) > 0 then redis.call('PEXPIRE', KEYS[3], ARGV[8]) end
end
if ARGV[5] ~= '' then emit(KEYS[2], ARGV[7], ARGV[5], ARGV[9], ARGV[6], now) end
local dispatched = {}
local closedIds, closedAt = {}, 0
if isTerminal(ARGV[2]) then closedIds, closedAt = closeTreeOf(ARGV[10], ARGV[9], now) end
if isTerminal(ARGV[2]) and (redis.call('HGET', KEYS[1], 'parentId') or '') == '' then
  redis.call('LREM', KEYS[6], 0, ARGV[9])
  dispatched = dispatch(KEYS[4], KEYS[5], KEYS[6], ARGV[10], now)
end
return { 0, s, dispatched, closedIds, closedAt }
