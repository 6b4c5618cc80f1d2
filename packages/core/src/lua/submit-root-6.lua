--[[
  Submit a root task: idempotency check, busy policy, create, append to the
  session lane, dispatch if the session has room. One atomic step, so 100
  concurrent submissions with one idempotency key create one task.

  KEYS[1] session hash
  KEYS[2] lane list
  KEYS[3] active list (root ids holding the lease)
  KEYS[4] events stream
  KEYS[5] idempotency hash (any session key when ARGV[5] is '0')
  KEYS[6] new task hash

  ARGV[1] session key base
  ARGV[2] task id
  ARGV[3] task fields (JSON object)
  ARGV[4] payload hash (for idempotent replays)
  ARGV[5] '1' when an idempotency key is given
  ARGV[6] idempotency TTL ms
  ARGV[7] onBusy: enqueue | reject | interrupt
  ARGV[8] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[9] parked set key (interrupt), ARGV[10] fence key (interrupt)
  ARGV[11] tenant (a session belongs to the tenant that created it)
  ARGV[12] session concurrency (roots holding the lease at once; stored on the session)
  ARGV[13] gate TTL ms for tasks cancelled by an interrupt
  ARGV[14] retention ms of finished trees (0 keeps them; stored on the session, see includes/lifecycle)
  ARGV[15] max queued roots per session (lane length)
  ARGV[16] deadline, epoch ms ('0': none). A submission whose caller has given up on
           it (its command timed out while Redis was frozen or slow) must not be
           applied when Redis gets to it later: past the deadline it is refused
           before any write.

  Output: { code, taskId, dispatchedIds, cancelledPairs, createdAtMs }
    code 0 created, 1 idempotent replay, -5 idempotency conflict (taskId = existing),
    -6 session busy (taskId = active or first queued root),
    -1 the session belongs to another tenant or is being deleted, -8 the task id is taken,
    -22 the lane already holds max queued roots (checked after the busy policy:
    an interrupt empties the lane first, an idempotent replay is answered before),
    -23 the deadline has passed (nothing written)
]]
--- @include "includes/common"
--- @include "includes/dispatch"
--- @include "includes/cancel-tree"

local base, taskId, maxlen = ARGV[1], ARGV[2], ARGV[8]
local now = nowMs()
if tonumber(ARGV[16]) > 0 and now > tonumber(ARGV[16]) then return { -23, '', {}, {} } end

if redis.call('EXISTS', KEYS[6]) == 1 then return { -8, taskId, {}, {} } end
local owner = redis.call('HGET', KEYS[1], 'tenant')
if owner and owner ~= ARGV[11] then return { -1, '', {}, {} } end
if redis.call('HEXISTS', KEYS[1], 'deleting') == 1 then return { -1, '', {}, {} } end

if ARGV[5] == '1' then
  local existing = redis.call('HMGET', KEYS[5], 'taskId', 'hash')
  if existing[1] then
    if existing[2] == ARGV[4] then return { 1, existing[1], {}, {} } end
    return { -5, existing[1], {}, {} }
  end
end

local cancelled = {}
if ARGV[7] == 'reject' then
  local busy = redis.call('LINDEX', KEYS[3], 0) or redis.call('LINDEX', KEYS[2], 0)
  if busy then return { -6, busy, {}, {} } end
elseif ARGV[7] == 'interrupt' then
  local roots = redis.call('LRANGE', KEYS[3], 0, -1)
  for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do roots[#roots + 1] = id end
  -- Every queued root is cancelled below: empty the lane at once, so that cancelTree's
  -- LREM per root is O(1) and a full lane costs O(n), not O(n^2).
  redis.call('DEL', KEYS[2])
  for _, id in ipairs(roots) do
    cancelTree(base, id, KEYS[2], ARGV[9], ARGV[10], KEYS[4], maxlen, 'interrupted by ' .. taskId, now, ARGV[13], cancelled)
  end
end

if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[15]) then return { -22, '', {}, {} } end

local fields = cjson.decode(ARGV[3])
redis.call('HSETNX', KEYS[1], 'tenant', ARGV[11])
redis.call('HSET', KEYS[1], 'concurrency', ARGV[12])
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
setFields(KEYS[6], fields)
-- The root's place in its session (seq) is told by its task.created event; nothing reads it from the task hash.
redis.call('HSET', KEYS[6], 'status', 'queued', 'createdAt', now, 'turns', 0, 'runner', 0)
openTree(base, taskId, ARGV[5] == '1' and KEYS[5] or '', ARGV[14], now)
redis.call('RPUSH', KEYS[2], taskId)
emit(KEYS[4], maxlen, 'task.created', taskId,
  cjson.encode({ mode = fields.mode, parentId = cjson.null, rootId = taskId, seq = seq }), now)

if ARGV[5] == '1' then
  redis.call('HSET', KEYS[5], 'taskId', taskId, 'hash', ARGV[4])
  redis.call('PEXPIRE', KEYS[5], ARGV[6])
end

local dispatched = dispatch(KEYS[1], KEYS[2], KEYS[3], base, now)
return { 0, taskId, dispatched, cancelled, now }
