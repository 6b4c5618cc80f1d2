--[[
  A worker starts (or resumes, or re-takes after a stall) a task's job: take
  a fresh runner fence. Every later write of this runner carries the token;
  the previous runner, if still alive, is fenced out.

  KEYS[1] task hash
  KEYS[2] fence counter
  KEYS[3] events stream
  KEYS[4] parked set

  ARGV[1] task id
  ARGV[2] states from which 'running' may be entered (CSV)
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[4] session key base (the last child's key is built from it)

  Output: { code, token, previousStatus, taskHashFlat, childIds, conversation, lastChild, treeBudgeted }
    0 ok, -1 not found, -7 terminal (token 0), -3 illegal transition
    The task, its children and its conversation come back with the claim so
    the runner starts without more round trips (its children list and
    conversation, built from KEYS[1] with the generated taskSubKey).
    lastChild: { status, result, errorCode, errorMessage } of the newest
    child, or {}: a parent resumed after its child ended reads the outcome
    it was waiting for from here, not in a round trip of its own.
    treeBudgeted: 1 when the task's tree has a budget (fields b* on its root),
    else 0: a runner of a tree without one needs no turn reservation.
]]
--- @include "includes/common"

local s = redis.call('HGET', KEYS[1], 'status')
if not s then return { -1, '0', '' } end
if isTerminal(s) then return { -7, '0', s } end
if not allowedFrom(ARGV[2], s) then return { -3, '0', s } end

local now = nowMs()
local token = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'status', 'running', 'runner', token)
redis.call('SREM', KEYS[4], ARGV[1])
if (redis.call('HGET', KEYS[1], 'startedAt') or '') == '' then
  redis.call('HSET', KEYS[1], 'startedAt', now)
  emit(KEYS[3], ARGV[3], 'task.started', ARGV[1], cjson.encode({ token = token }), now)
else
  emit(KEYS[3], ARGV[3], 'task.resumed', ARGV[1], cjson.encode({ from = s, token = token }), now)
end
local children = redis.call('LRANGE', taskSubKey(KEYS[1], TASK_KEY.children), 0, -1)
local lastChild = {}
if #children > 0 then
  lastChild = redis.call('HMGET', taskKey(ARGV[4], children[#children]), 'status', 'result', 'errorCode', 'errorMessage')
end
local rootId = redis.call('HGET', KEYS[1], 'rootId') or ARGV[1]
local budget = redis.call('HMGET', taskKey(ARGV[4], rootId), 'bTokens', 'bCost', 'bTurns')
local treeBudgeted = 0
for i = 1, 3 do
  if budget[i] and budget[i] ~= '' then treeBudgeted = 1 end
end
return { 0, tostring(token), s, redis.call('HGETALL', KEYS[1]), children,
  redis.call('LRANGE', taskSubKey(KEYS[1], TASK_KEY.conv), 0, -1), lastChild, treeBudgeted }
