--[[
  Compare-and-set append to a task's conversation: refused unless the runner
  token is current and the conversation has exactly the expected length.
  Carries the runner's pending turn bookkeeping (fields, events) with it.

  KEYS[1] conversation list
  KEYS[2] task hash
  KEYS[3] events stream

  ARGV[1] runner token
  ARGV[2] task id
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[4..] carried writes (see includes/carried-writes): expected length, meta, messages

  Output: { code, length }  0 ok (new length), -2 stale token, -4 length mismatch (current length)

  Idempotent for its runner: if these exact messages already sit at the expected
  position, the call is a re-send of an append that was applied but whose reply
  was lost (ioredis re-sends unanswered commands after a reconnect, e.g. when
  Redis crashed after fsyncing the write): answer ok instead of a conflict.
]]
--- @include "includes/common"
--- @include "includes/carried-writes"

if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then
  return { -2, redis.call('LLEN', KEYS[1]) }
end
local code, len = applyCarried(KEYS[1], KEYS[2], KEYS[3], ARGV[3], ARGV[2], 4, nowMs())
return { code, len }
