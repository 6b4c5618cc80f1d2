--[[
  Usage: records a committed turn's tokens and cost once, on the task, its
  tree (root hash, fields tu:*) and its session (u:*), and settles the turn's
  budget reservation. O(1) per turn. Fenced by the runner token; counted once
  per turn whatever the number of replays (marker <turn>:usage in the gate hash,
  which lives and dies with the gate entry of the turn).

  The roll-ups outside the session's slot (the tenant's day, the per-model
  totals) cannot be written here. So that a crash after this script does not
  lose them, the same script that counts the turn stores its roll-up in the
  session's pending roll-ups (KEYS[6], field = roll-up id): whoever applies
  it (tenant-rollup-4.lua and model-rollup-2.lua, each refusing a second
  application of the same id) deletes the field afterwards, and whatever is
  left after a crash is applied by the turn's replay or by the reconciler.

  KEYS[1] gate hash of the task
  KEYS[2] task hash (own totals u:*)
  KEYS[3] root task hash (tree totals tu:*; = KEYS[2] for a root)
  KEYS[4] session hash (session totals u:*)
  KEYS[5] session's reservation deadlines (zset, see budget-reserve-5.lua)
  KEYS[6] session's pending roll-ups (hash: roll-up id -> payload)

  ARGV[1] turn
  ARGV[2] runner token
  ARGV[3] input tokens (including cached)
  ARGV[4] output tokens
  ARGV[5] cached input tokens
  ARGV[6] USD ('' when the model has no price: counted in u:unpriced, never guessed)
  ARGV[7] the reservation's member in KEYS[5]
  ARGV[8] roll-up id (<taskId>:<turn>)
  ARGV[9] roll-up payload (JSON, see usage/rollups.ts)

  Output: { 1, reservation, pending }  recorded now; reservation "<tokens> <costUsd> <day>" settled, or '';
                                       pending: roll-ups now waiting in KEYS[6], this one included
          { 0 }                        already recorded
          { -2 }                       stale runner token
          { -3 }                       the turn has no committed response
]]
--- @include "includes/record-usage"

local t = ARGV[1]
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[2] then return { -2 } end
if redis.call('HGET', KEYS[1], t .. ':state') ~= 'committed' then return { -3 } end
return recordTurnUsage({ gate = KEYS[1], task = KEYS[2], root = KEYS[3], session = KEYS[4], reservations = KEYS[5], rollups = KEYS[6] }, t, 3)
