--[[
  Counts a committed turn's usage once (see record-usage-6.lua for the
  whole story): the task's, its tree's (root, tu:*) and its session's totals,
  the turn's budget reservation settled, and its roll-up kept pending in the
  session. The caller has checked the runner token and that the turn is
  committed. Shared by record-usage-6 and gate-commit-6 (which records a
  turn's usage in the same step as its commit).

  k: { gate, task, root, session, reservations, rollups } keys
  t: the turn
  a: ARGV index of the usage arguments: input, output, cached tokens, USD
     ('' unpriced), reservation member, roll-up id, roll-up payload

  Returns { 1, reservation, pending } recorded now, { 0 } already recorded.
]]
local function recordTurnUsage(k, t, a)
  if redis.call('HSETNX', k.gate, t .. ':usage', '1') == 0 then return { 0 } end
  local function add(key, prefix)
    redis.call('HINCRBY', key, prefix .. 'in', ARGV[a])
    redis.call('HINCRBY', key, prefix .. 'out', ARGV[a + 1])
    redis.call('HINCRBY', key, prefix .. 'cached', ARGV[a + 2])
    redis.call('HINCRBY', key, prefix .. 'turns', 1)
    if ARGV[a + 3] == '' then
      redis.call('HINCRBY', key, prefix .. 'unpriced', 1)
    else
      redis.call('HINCRBYFLOAT', key, prefix .. 'cost', ARGV[a + 3])
    end
  end
  add(k.task, 'u:')
  add(k.root, 'tu:')
  add(k.session, 'u:')

  local resv = redis.call('HGET', k.gate, t .. ':resv')
  if resv then
    local tokens, cost = string.match(resv, '^(%S+) (%S+)')
    redis.call('HDEL', k.gate, t .. ':resv')
    for _, key in ipairs({ k.root, k.session }) do
      redis.call('HINCRBY', key, 'br:turns', -1)
      redis.call('HINCRBY', key, 'br:tokens', -tonumber(tokens))
      redis.call('HINCRBYFLOAT', key, 'br:cost', -tonumber(cost))
    end
  end
  redis.call('ZREM', k.reservations, ARGV[a + 4])
  redis.call('HSET', k.rollups, ARGV[a + 5], ARGV[a + 6])
  return { 1, resv or '', redis.call('HLEN', k.rollups) }
end
