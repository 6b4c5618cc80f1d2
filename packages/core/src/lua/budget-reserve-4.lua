--[[
  Budgets: check and reserve, before a turn's model request (before the gate).
  A turn that would start over a budget does not start: refused when what the
  tree (or the session) has spent plus what turns in flight have reserved has
  reached a limit. Otherwise reserves this turn's estimate on the tree (root
  hash) and on the session, so racing workers see each other's turns in
  flight: the overspend is bounded by one turn's reservation (a turn let in
  just under the limit), whatever the number of workers. The reservation is
  settled (released) by record-usage-4.lua when the turn's usage is recorded,
  or by budget-release-4.lua when the turn ends without a commit.
  Reserving a turn twice (a replay) is a no-op.

  KEYS[1] gate hash of the task (field <turn>:resv = "<tokens> <costUsd> <day>")
  KEYS[2] task hash (runner fence)
  KEYS[3] root task hash (tree totals tu:*, reservations br:*, budget b*, approvals bIgnore:*)
  KEYS[4] session hash (session totals u:*, reservations br:*)

  ARGV[1] turn
  ARGV[2] runner token
  ARGV[3] estimated tokens of the turn
  ARGV[4] estimated USD of the turn ('0' when unpriced)
  ARGV[5] session max tokens ('' none)
  ARGV[6] session max USD ('' none)
  ARGV[7] session max turns ('' none)
  ARGV[8] UTC day of the reservation (YYYY-MM-DD; the tenant side keeps it per day)

  Output: { 1 }                                  reserved now
          { 2 }                                  already reserved or committed (a replay)
          { -2 }                                 stale runner token
          { -30, scope, budget, limit, spent }   over budget: scope tree|session,
                                                 budget maxTokens|maxCostUsd|maxTurns
]]
local t = ARGV[1]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[2] then return { -2 } end
if redis.call('HEXISTS', KEYS[1], t .. ':resv') == 1 or redis.call('HGET', KEYS[1], t .. ':state') == 'committed' then
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
if tree[4] ~= '1' then
  local hit = over(KEYS[3], 'tu:', tree[1] or '', tree[2] or '', tree[3] or '')
  if hit then return { -30, 'tree', hit[1], hit[2], hit[3] } end
end
if tree[5] ~= '1' then
  local hit = over(KEYS[4], 'u:', ARGV[5], ARGV[6], ARGV[7])
  if hit then return { -30, 'session', hit[1], hit[2], hit[3] } end
end

redis.call('HSET', KEYS[1], t .. ':resv', ARGV[3] .. ' ' .. ARGV[4] .. ' ' .. ARGV[8])
for _, key in ipairs({ KEYS[3], KEYS[4] }) do
  redis.call('HINCRBY', key, 'br:turns', 1)
  redis.call('HINCRBY', key, 'br:tokens', ARGV[3])
  redis.call('HINCRBYFLOAT', key, 'br:cost', ARGV[4])
end
return { 1 }
