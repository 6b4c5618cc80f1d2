--[[
  A running task's tool call asks the user (a question, an approval): return
  the response if one was delivered for this tool call, else park the task
  in `awaiting_input` (its runner then moves the job to delayed: no worker
  slot is held while the user thinks).

  Asking again for the same tool call (the job woke early, or was re-run after
  a crash) keeps the first `askedAt` and emits nothing; once `askedAt` plus the
  timeout has passed, it answers "timed out" instead of parking (the runner
  fails the task with INPUT_TIMEOUT, fenced).

  KEYS[1] task hash
  KEYS[2] events stream

  ARGV[1] runner token
  ARGV[2] task id
  ARGV[3] tool call id
  ARGV[4] request kind ('question' | 'approval')
  ARGV[5] request JSON (kind, question, followUp | kind, tool, arguments, and toolCallId):
          the stored `pendingInput` and the data of `task.input_required`
  ARGV[6] events trim (`<maxLen>:<maxAgeMs>`, see emit)
  ARGV[7] timeout ms (0: wait forever)

  Task hash fields (mirrored by store/task-record.ts): `pendingInput` (request
  JSON, '' once answered), `inputCall`, `inputKind`, `inputAskedAt` (ms), and
  `input:<toolCallId>` (the delivered response, canonical JSON).

  Output: { code, value, now }
    1 delivered: value is the response JSON
    0 parked: value is askedAt (ms), now is Redis time (ms)
    -2 stale token, -3 task not running (value: its status)
    -27 timed out: value is askedAt (ms), the task stays running
]]
--- @include "includes/common"

local stored = redis.call('HGET', KEYS[1], 'input:' .. ARGV[3])
if redis.call('HGET', KEYS[1], 'runner') ~= ARGV[1] then return { -2, '', 0 } end
if stored then return { 1, stored, 0 } end
local s = redis.call('HGET', KEYS[1], 'status')
if s ~= 'running' then return { -3, s or '', 0 } end

local now = nowMs()
local asked = nil
if redis.call('HGET', KEYS[1], 'inputCall') == ARGV[3] then
  asked = tonumber(redis.call('HGET', KEYS[1], 'inputAskedAt'))
end
if asked and tonumber(ARGV[7]) > 0 and now >= asked + tonumber(ARGV[7]) then
  return { -27, tostring(asked), now }
end
if not asked then
  asked = now
  redis.call('HSET', KEYS[1], 'inputCall', ARGV[3], 'inputKind', ARGV[4], 'inputAskedAt', now)
  emit(KEYS[2], ARGV[6], 'task.input_required', ARGV[2], ARGV[5], now)
end
redis.call('HSET', KEYS[1], 'status', 'awaiting_input', 'pendingInput', ARGV[5])
return { 0, tostring(asked), now }
