--[[
  A user's response (an answer, an approval or a denial) to the task's pending
  input. Atomic: checks the task waits, stores the response for the pending
  tool call, records the idempotency key, emits `task.input_received`, and
  puts the task in its session's parked set, so that whoever promotes parked
  jobs (this caller right after, a resume, the reconciler after a crash) wakes
  its delayed job. The task stays `awaiting_input` (with `pendingInput`
  cleared) until a runner claims it again and reads the response.

  KEYS[1] task hash
  KEYS[2] events stream
  KEYS[3] parked set of the session

  ARGV[1] task id
  ARGV[2] response kind ('answer' | 'approval')
  ARGV[3] response, canonical JSON (model/pending-input.ts encodeResponse)
  ARGV[4] idempotency key ('' for none)
  ARGV[5] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[6] event data: a JSON object (the response) with at least one member; toolCallId
          is added here (by text: a decode/encode round trip would turn [] into {})

  Output: { code, detail }
    0 stored (detail: tool call id)
    1 replay: this response was already stored for that call, or the key was used with it (detail: tool call id)
    -1 task not found
    -24 not awaiting input (detail: status)
    -25 another response was already stored for the call, or the key was used with another (detail: tool call id)
    -26 the response kind does not answer the request (detail: the request kind)
]]
--- @include "includes/common"

local s = redis.call('HGET', KEYS[1], 'status')
if not s then return { -1, '' } end
if ARGV[4] ~= '' then
  local prior = redis.call('HGET', KEYS[1], 'inputIdem:' .. ARGV[4])
  if prior then
    if redis.call('HGET', KEYS[1], 'input:' .. prior) == ARGV[3] then return { 1, prior } end
    return { -25, prior }
  end
end
if s ~= 'awaiting_input' then return { -24, s } end
local call = redis.call('HGET', KEYS[1], 'inputCall') or ''
local stored = redis.call('HGET', KEYS[1], 'input:' .. call)
if stored then
  if stored ~= ARGV[3] then return { -25, call } end
  if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'inputIdem:' .. ARGV[4], call) end
  return { 1, call }
end
local kind = redis.call('HGET', KEYS[1], 'inputKind') or ''
local expected = 'approval'
if kind == 'question' then expected = 'answer' end
if ARGV[2] ~= expected then return { -26, kind } end

local now = nowMs()
redis.call('HSET', KEYS[1], 'input:' .. call, ARGV[3], 'pendingInput', '')
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'inputIdem:' .. ARGV[4], call) end
redis.call('SADD', KEYS[3], ARGV[1])
local data = '{"toolCallId":' .. cjson.encode(call) .. ',' .. string.sub(ARGV[6], 2)
emit(KEYS[2], ARGV[5], 'task.input_received', ARGV[1], data, now)
return { 0, call }
