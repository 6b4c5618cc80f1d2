--[[
  A root tree ended (or the reconciler found it gone): release its lease and
  hand the session to the next roots in the lane. Idempotent.
  Also used with an empty root id to (re)dispatch, e.g. after resume.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] active list

  ARGV[1] session key base
  ARGV[2] root id ('' to only dispatch)

  Output: { removed (0|1), dispatchedIds }
]]
--- @include "includes/common"
--- @include "includes/dispatch"

local removed = 0
if ARGV[2] ~= '' then removed = redis.call('LREM', KEYS[3], 0, ARGV[2]) end
return { removed, dispatch(KEYS[1], KEYS[2], KEYS[3], ARGV[1], nowMs()) }
