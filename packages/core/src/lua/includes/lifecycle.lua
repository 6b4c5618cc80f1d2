--[[
  Data lifecycle: retention by Redis expiry, no scans.

  A tree is closed when its root and every descendant are terminal. Closing
  gives every key of the tree (task hash, children, conversation, gate) one
  deadline, `retention` ms later, records that deadline as the root's score in
  the session's roots set, and hands the task ids to the session's
  `unindexed` set: their task-index entries live outside this slot, so the
  caller (or, after a crash, the reconciler) makes them follow.

  A session with no open tree and nothing queued, running or paused expires
  too, at the latest deadline of its trees; a submit or a pause makes it
  persistent again. Both happen inside the scripts that change the state, so
  a submit racing an expiry sees either the whole session or none of it.

  `retention` is the session hash's field, written by each submit (0 keeps
  everything). Session keys are built from the base with the generated
  sessionKey (keys.ts); SESSION_KEYS lists all of them.
]]

local function retentionOf(base)
  return tonumber(redis.call('HGET', sessionKey(base, SESSION_KEY.session), 'retention') or '0') or 0
end

-- Every task id of the tree under `topId`, depth-first. With `terminalOnly`,
-- nil as soon as one of them is not terminal.
local function treeIds(base, topId, terminalOnly)
  local ids, stack = {}, { topId }
  while #stack > 0 do
    local id = table.remove(stack)
    local s = redis.call('HGET', taskKey(base, id), 'status')
    if s then
      if terminalOnly and not isTerminal(s) then return nil end
      ids[#ids + 1] = id
    end
    for _, k in ipairs(redis.call('LRANGE', childrenKey(base, id), 0, -1)) do stack[#stack + 1] = k end
  end
  return ids
end

-- SADD in slices (Lua's unpack has a stack limit).
local function addAll(setKey, ids)
  for i = 1, #ids, 1000 do
    redis.call('SADD', setKey, unpack(ids, i, math.min(i + 999, #ids)))
  end
end

-- The idempotency key a root was submitted with, if it still maps to that root.
local function idempotencyKeyOf(base, rootId)
  local idem = redis.call('HGET', taskKey(base, rootId), 'idemKey')
  if idem and idem ~= '' and redis.call('HGET', idem, 'taskId') == rootId then return idem end
  return nil
end

-- Gives the session keys the latest deadline of its trees when nothing is left
-- in it: no open tree, nothing queued or holding the lease, not paused.
local function expireSessionIfDone(base, now)
  local retention = retentionOf(base)
  if retention <= 0 then return end
  if redis.call('HGET', sessionKey(base, SESSION_KEY.session), 'status') == 'paused' then return end
  if redis.call('LLEN', sessionKey(base, SESSION_KEY.active)) > 0 or redis.call('LLEN', sessionKey(base, SESSION_KEY.lane)) > 0 then return end
  local roots = sessionKey(base, SESSION_KEY.roots)
  if redis.call('ZCOUNT', roots, '+inf', '+inf') > 0 then return end
  -- The deadline of the session's last tree, so that calling this again (a later dispatch)
  -- does not push it back; now + retention when no tree is left to go by.
  local at = now + retention
  local last = redis.call('ZREVRANGEBYSCORE', roots, '(+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if last[2] and tonumber(last[2]) > now then at = tonumber(last[2]) end
  for _, name in ipairs(SESSION_KEYS) do
    redis.call('PEXPIREAT', sessionKey(base, name), string.format('%d', at))
  end
end

-- Closes the tree of `rootId` if every task of it is terminal. Returns the task
-- ids that went to the unindexed set and their deadline (ms), or {} and 0 when
-- the tree is still open or retention is off.
local function closeTree(base, rootId, now)
  local retention = retentionOf(base)
  if retention <= 0 then return {}, 0 end
  local ids = treeIds(base, rootId, true)
  if not ids or #ids == 0 then return {}, 0 end
  local at = now + retention
  for _, id in ipairs(ids) do
    redis.call('PEXPIREAT', taskKey(base, id), at)
    redis.call('PEXPIREAT', childrenKey(base, id), at)
    redis.call('PEXPIREAT', convKey(base, id), at)
    redis.call('PEXPIREAT', convArchiveKey(base, id), at)
    -- A shorter gate TTL (committed responses) stays as it is.
    redis.call('PEXPIREAT', gateKey(base, id), at, 'LT')
  end
  local idem = idempotencyKeyOf(base, rootId)
  if idem then redis.call('PEXPIREAT', idem, at, 'LT') end
  redis.call('ZADD', sessionKey(base, SESSION_KEY.roots), at, rootId)
  addAll(sessionKey(base, SESSION_KEY.unindexed), ids)
  -- The last open tree of an idle session may close here, long after its root
  -- released the lease (an orphan subtask ending late): the session may be done.
  expireSessionIfDone(base, now)
  return ids, at
end

-- Closes the tree that `taskId` belongs to (see closeTree).
local function closeTreeOf(base, taskId, now)
  local rootId = redis.call('HGET', taskKey(base, taskId), 'rootId')
  if not rootId or rootId == '' then rootId = taskId end
  local rs = redis.call('HGET', taskKey(base, rootId), 'status')
  if not rs or not isTerminal(rs) then return {}, 0 end
  return closeTree(base, rootId, now)
end

-- The session has work again (submit, pause): its keys must not expire.
local function persistSession(base, now)
  for _, name in ipairs(SESSION_KEYS) do redis.call('PERSIST', sessionKey(base, name)) end
  -- Trees whose deadline passed are gone: drop them from the roots set (bounded by retention).
  redis.call('ZREMRANGEBYSCORE', sessionKey(base, SESSION_KEY.roots), '-inf', '(' .. string.format('%d', now))
end

-- A new root: its tree is open until closeTree. `idemKey` is '' without one.
local function openTree(base, rootId, idemKey, retention, now)
  persistSession(base, now)
  redis.call('HSET', sessionKey(base, SESSION_KEY.session), 'retention', retention)
  redis.call('ZADD', sessionKey(base, SESSION_KEY.roots), '+inf', rootId)
  if idemKey ~= '' then redis.call('HSET', taskKey(base, rootId), 'idemKey', idemKey) end
end
