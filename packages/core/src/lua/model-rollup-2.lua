--[[
  Usage per model (the metrics' counters by model): adds one recorded turn (a
  roll-up stored by record-usage-6.lua) exactly once. The roll-up's id as a
  field of the markers hash (KEYS[1], in the totals' slot: its hash tag is
  the totals key's name; one hash per day the roll-up was recorded on and
  bucket of its id, as tenant-rollup-4) refuses every application after the
  first, so a replay or the reconciler may apply a pending roll-up again
  after a crash. The hash expires ARGV[6] after its last application.

  KEYS[1] roll-up markers of the turn's day and id bucket (hash: id -> '', TTL ARGV[6])
  KEYS[2] per-model totals (fields <model>|in|out|cached|turns|cost|unpriced)

  ARGV[1] model
  ARGV[2] input tokens, ARGV[3] output tokens, ARGV[4] cached tokens
  ARGV[5] USD ('' unpriced)
  ARGV[6] markers TTL seconds
  ARGV[7] roll-up id (<taskId>:<turn>)

  Output: 1 applied now, 0 already applied (refused)
]]
if redis.call('HSETNX', KEYS[1], ARGV[7], '') == 0 then return 0 end
redis.call('EXPIRE', KEYS[1], ARGV[6])
local function f(name) return ARGV[1] .. '|' .. name end
redis.call('HINCRBY', KEYS[2], f('in'), ARGV[2])
redis.call('HINCRBY', KEYS[2], f('out'), ARGV[3])
redis.call('HINCRBY', KEYS[2], f('cached'), ARGV[4])
redis.call('HINCRBY', KEYS[2], f('turns'), 1)
if ARGV[5] == '' then redis.call('HINCRBY', KEYS[2], f('unpriced'), 1) else redis.call('HINCRBYFLOAT', KEYS[2], f('cost'), ARGV[5]) end
return 1
