--[[
  Usage: records a committed turn's tokens and cost once, on the task, its
  tree (root hash, fields tu:*) and its session (u:*), and settles the turn's
  budget reservation. O(1) per turn. Fenced by the runner token; counted once
  per turn whatever the number of replays (marker <turn>:usage in the gate hash,
  which lives and dies with the gate entry of the turn).

  KEYS[1] gate hash of the task
  KEYS[2] task hash (own totals u:*)
  KEYS[3] root task hash (tree totals tu:*; = KEYS[2] for a root)
  KEYS[4] session hash (session totals u:*)

  ARGV[1] turn
  ARGV[2] runner token
  ARGV[3] input tokens (including cached)
  ARGV[4] output tokens
  ARGV[5] cached input tokens
  ARGV[6] USD ('' when the model has no price: counted in u:unpriced, never guessed)

  Output: { 1, reservation }  recorded now; reservation "<tokens> <costUsd> <day>" settled, or ''
          { 0 }               already recorded
          { -2 }              stale runner token
          { -3 }              the turn has no committed response
]]
local t = ARGV[1]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[2] then return { -2 } end
if redis.call('HGET', KEYS[1], t .. ':state') ~= 'committed' then return { -3 } end
if redis.call('HSETNX', KEYS[1], t .. ':usage', '1') == 0 then return { 0 } end

local function add(key, prefix)
  redis.call('HINCRBY', key, prefix .. 'in', ARGV[3])
  redis.call('HINCRBY', key, prefix .. 'out', ARGV[4])
  redis.call('HINCRBY', key, prefix .. 'cached', ARGV[5])
  redis.call('HINCRBY', key, prefix .. 'turns', 1)
  if ARGV[6] == '' then
    redis.call('HINCRBY', key, prefix .. 'unpriced', 1)
  else
    redis.call('HINCRBYFLOAT', key, prefix .. 'cost', ARGV[6])
  end
end
add(KEYS[2], 'u:')
add(KEYS[3], 'tu:')
add(KEYS[4], 'u:')

local resv = redis.call('HGET', KEYS[1], t .. ':resv')
if resv then
  local tokens, cost = string.match(resv, '^(%S+) (%S+)')
  redis.call('HDEL', KEYS[1], t .. ':resv')
  for _, key in ipairs({ KEYS[3], KEYS[4] }) do
    redis.call('HINCRBY', key, 'br:turns', -1)
    redis.call('HINCRBY', key, 'br:tokens', -tonumber(tokens))
    redis.call('HINCRBYFLOAT', key, 'br:cost', -tonumber(cost))
  end
end
return { 1, resv or '' }
