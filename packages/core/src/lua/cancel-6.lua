--[[
  Cancel a task and its descendants. The lease of an active root is not
  released here: it passes on when the cancelled tree's job has really
  stopped (finish-root), so a dying request never overlaps the next root.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] parked set
  KEYS[4] fence counter
  KEYS[5] events stream
  KEYS[6] task hash

  ARGV[1] session key base
  ARGV[2] task id
  ARGV[3] reason
  ARGV[4] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[5] gate TTL ms for the cancelled tasks' committed responses (0 keeps them)

  Output: { code, previousStatus, cancelledPairs }
    0 ok (pairs may be empty: already cancelled), -1 not found, -7 already completed or failed
  A tree left all terminal is closed (includes/lifecycle); a session left
  with nothing in it starts to expire.
]]
--- @include "includes/common"
--- @include "includes/cancel-tree"

local s = redis.call('HGET', KEYS[6], 'status')
if not s then return { -1, '', {} } end
if s == 'completed' or s == 'failed' then return { -7, s, {} } end
local out = {}
local now = nowMs()
cancelTree(ARGV[1], ARGV[2], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[4], ARGV[3], now, ARGV[5], out)
if #out > 0 then expireSessionIfDone(ARGV[1], now) end
return { 0, s, out }
