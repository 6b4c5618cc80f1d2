--[[
  Budgets: check and reserve, before a turn's model request (before the gate).
  A turn that would start over a budget does not start: refused when what the
  tree (or the session) has spent plus what turns in flight have reserved has
  reached a limit. Otherwise reserves this turn's estimate on the tree (root
  hash) and on the session, so racing workers see each other's turns in
  flight: the overspend is bounded by one turn's reservation (a turn let in
  just under the limit), whatever the number of workers. The reservation is
  settled by record-usage-6.lua when the turn's usage is recorded, or by
  budget-release-5.lua when the turn ends without a commit.

  Crash safety: every reservation has a deadline (KEYS[5], score: ms). A
  worker that dies with a turn in flight cannot release it; the next reserve
  of the session first drops the reservations past their deadline (at most
  100 a call), so a crash holds budget only for a reservation's lifetime.
  Reserving a turn again (a replay) does not reserve twice: it only pushes
  the live reservation's deadline (the replayed request may take as long).

  KEYS[1] gate hash of the task (field <turn>:resv = "<tokens> <costUsd> <day>")
  KEYS[2] task hash (runner fence)
  KEYS[3] root task hash (tree totals tu:*, reservations br:*, budget b*, approvals bIgnore:*)
  KEYS[4] session hash (session totals u:*, reservations br:*)
  KEYS[5] session's reservation deadlines (zset, member "<taskId> <turn> <rootId>", score ms)

  ARGV[1] turn
  ARGV[2] runner token
  ARGV[3] estimated tokens of the turn
  ARGV[4] estimated USD of the turn ('0' when unpriced)
  ARGV[5] session max tokens ('' none)
  ARGV[6] session max USD ('' none)
  ARGV[7] session max turns ('' none)
  ARGV[8] UTC day of the reservation (YYYY-MM-DD; the tenant side keeps it per day)
  ARGV[9] session base (keys of expired reservations' tasks are built from it)
  ARGV[10] this reservation's member in KEYS[5]
  ARGV[11] lifetime of the reservation, ms (request timeout x attempts + margin)

  Output: { 1 }                                  reserved now
          { 2 }                                  already reserved (a replay): deadline pushed
          { 4 }                                  no budget applies (no tree or session limit,
                                                 no tenant day): nothing reserved, nothing to settle
          { 3 }                                  the turn is committed (a replay): nothing to reserve
          { -2 }                                 stale runner token
          { -30, scope, budget, limit, spent }   over budget: scope tree|session,
                                                 budget maxTokens|maxCostUsd|maxTurns
]]
--- @include "includes/common"

local t = ARGV[1]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[2] then return { -2 } end

local function unreserve(resv, rootKey)
  local tokens, cost = string.match(resv, '^(%S+) (%S+)')
  for _, key in ipairs({ rootKey, KEYS[4] }) do
    redis.call('HINCRBY', key, 'br:turns', -1)
    redis.call('HINCRBY', key, 'br:tokens', -tonumber(tokens))
    redis.call('HINCRBYFLOAT', key, 'br:cost', -tonumber(cost))
  end
end

-- Drop the reservations of turns whose worker died (past their deadline).
local now = nowMs()
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, 100)) do
  local taskId, turn, rootId = string.match(member, '^(%S+) (%S+) (%S+)$')
  local gk = gateKey(ARGV[9], taskId)
  local resv = redis.call('HGET', gk, turn .. ':resv')
  -- Even when committed: a commit whose usage was never recorded (its worker died right after) would
  -- otherwise hold the reservation until the tree ends; a late record-usage finds none to settle.
  if resv then
    redis.call('HDEL', gk, turn .. ':resv')
    unreserve(resv, taskKey(ARGV[9], rootId))
  end
  redis.call('ZREM', KEYS[5], member)
end

if redis.call('HGET', KEYS[1], t .. ':state') == 'committed' then return { 3 } end
if redis.call('HEXISTS', KEYS[1], t .. ':resv') == 1 then
  redis.call('ZADD', KEYS[5], now + tonumber(ARGV[11]), ARGV[10])
  return { 2 }
end

local function num(key, field) return tonumber(redis.call('HGET', key, field) or '0') or 0 end

-- Returns the first budget reached by `spent + reserved`, if any.
local function over(key, prefix, maxTokens, maxCost, maxTurns)
  local turns = num(key, prefix .. 'turns') + num(key, 'br:turns')
  if maxTurns ~= '' and turns >= tonumber(maxTurns) then return { 'maxTurns', maxTurns, tostring(turns) } end
  local tokens = num(key, prefix .. 'in') + num(key, prefix .. 'out') + num(key, 'br:tokens')
  if maxTokens ~= '' and tokens >= tonumber(maxTokens) then return { 'maxTokens', maxTokens, tostring(tokens) } end
  local cost = num(key, prefix .. 'cost') + num(key, 'br:cost')
  if maxCost ~= '' and cost >= tonumber(maxCost) then return { 'maxCostUsd', maxCost, tostring(cost) } end
  return nil
end

local tree = redis.call('HMGET', KEYS[3], 'bTokens', 'bCost', 'bTurns', 'bIgnore:tree', 'bIgnore:session')
-- No limit to hold the turn against (the common deployment): a reservation would only be
-- written now and settled at the commit. A tenant day ('-' when none) still needs one, to settle.
local function set(v) return v ~= nil and v ~= false and v ~= '' end
local treeLimited = tree[4] ~= '1' and (set(tree[1]) or set(tree[2]) or set(tree[3]))
local sessionLimited = tree[5] ~= '1' and (set(ARGV[5]) or set(ARGV[6]) or set(ARGV[7]))
if not treeLimited and not sessionLimited and ARGV[8] == '-' then return { 4 } end
if treeLimited then
  local hit = over(KEYS[3], 'tu:', tree[1] or '', tree[2] or '', tree[3] or '')
  if hit then return { -30, 'tree', hit[1], hit[2], hit[3] } end
end
if sessionLimited then
  local hit = over(KEYS[4], 'u:', ARGV[5], ARGV[6], ARGV[7])
  if hit then return { -30, 'session', hit[1], hit[2], hit[3] } end
end

redis.call('HSET', KEYS[1], t .. ':resv', ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[8])
redis.call('ZADD', KEYS[5], now + tonumber(ARGV[11]), ARGV[10])
for _, key in ipairs({ KEYS[3], KEYS[4] }) do
  redis.call('HINCRBY', key, 'br:turns', 1)
  redis.call('HINCRBY', key, 'br:tokens', ARGV[3])
  redis.call('HINCRBYFLOAT', key, 'br:cost', ARGV[4])
end
return { 1 }
