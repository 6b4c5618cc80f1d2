--[[
  Usage per model (the metrics' counters by model): adds one recorded turn (a
  roll-up stored by record-usage-6.lua) exactly once. The marker (KEYS[1])
  lives in the totals' slot (its hash tag is the totals key's name) and
  refuses every application after the first, so a replay or the reconciler
  may apply a pending roll-up again after a crash.

  KEYS[1] roll-up marker of the turn (string, TTL ARGV[6])
  KEYS[2] per-model totals (fields <model>|in|out|cached|turns|cost|unpriced)

  ARGV[1] model
  ARGV[2] input tokens, ARGV[3] output tokens, ARGV[4] cached tokens
  ARGV[5] USD ('' unpriced)
  ARGV[6] marker TTL seconds

  Output: 1 applied now, 0 already applied (refused)
]]
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[6]) then return 0 end
local function f(name) return ARGV[1] .. '|' .. name end
redis.call('HINCRBY', KEYS[2], f('in'), ARGV[2])
redis.call('HINCRBY', KEYS[2], f('out'), ARGV[3])
redis.call('HINCRBY', KEYS[2], f('cached'), ARGV[4])
redis.call('HINCRBY', KEYS[2], f('turns'), 1)
if ARGV[5] == '' then redis.call('HINCRBY', KEYS[2], f('unpriced'), 1) else redis.call('HINCRBYFLOAT', KEYS[2], f('cost'), ARGV[5]) end
return 1
