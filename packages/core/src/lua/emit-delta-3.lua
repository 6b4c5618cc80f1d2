--[[
  Streaming: append one `message.delta` event (a live piece of a model response)
  to the session stream, only while the caller holds the turn's gate lease: the
  same checks as gate-renew, so a zombie worker (its lease expired and granted
  to another, or its runner fenced out) cannot show deltas of a turn another
  worker now runs. Goes through emit(), so the stream cap (MAXLEN ~, MINID ~)
  applies to deltas as to every event.

  KEYS[1] gate hash of the task
  KEYS[2] task hash
  KEYS[3] session event stream

  ARGV[1] turn
  ARGV[2] gate token
  ARGV[3] events trim (`<maxLen>:<maxAgeMs>`)
  ARGV[4] task id
  ARGV[5] event data (JSON: {turn, grant, attempt, seq, text?, toolCalls?})

  Output: { 1, streamId } emitted
          { 0 }           lease lost (not in flight, another token, or the runner was fenced out)
]]
--- @include "includes/common"

local t = ARGV[1]
if redis.call('HGET', KEYS[1], t .. ':state') ~= 'inflight' then return { 0 } end
if redis.call('HGET', KEYS[1], t .. ':token') ~= ARGV[2] then return { 0 } end
local holder = redis.call('HGET', KEYS[1], t .. ':runner') or ''
if holder ~= '' and holder ~= redis.call('HGET', KEYS[2], 'runner') then return { 0 } end
return { 1, emit(KEYS[3], ARGV[3], 'message.delta', ARGV[4], ARGV[5], nowMs()) }
