--[[
  Replaces a task's live conversation with its condensed form, in one step:
  the old messages go to the archive (one JSON document per version, for the
  export), the list gets the new messages, and the task hash records the new
  version and turn offset. Refused unless the runner token is current, the
  conversation has exactly the expected length and the version is the one
  the caller condensed from (compare-and-set, as append-messages).

  KEYS[1] conversation list
  KEYS[2] task hash (fields runner, convVersion, turnOffset)
  KEYS[3] conversation archive list

  ARGV[1] runner token
  ARGV[2] expected length
  ARGV[3] expected version (the task's convVersion; 0 before the first condense)
  ARGV[4] turn offset of the new version (turns of the task before its first live assistant message)
  ARGV[5..n] the new messages (JSON)

  Output: { code, length, version }  0 ok (new length and version), -2 stale token,
          -4 length or version mismatch (current length and version)

  Idempotent for its runner: if the list already holds exactly these messages
  at version expected + 1, the call is a re-send of a replacement that was
  applied but whose reply was lost: answer ok.
]]
--- @include "includes/common"

local version = tonumber(redis.call('HGET', KEYS[2], 'convVersion') or '0')
local len = redis.call('LLEN', KEYS[1])
if redis.call('HGET', KEYS[2], 'runner') ~= ARGV[1] then return { -2, len, version } end
local expected = tonumber(ARGV[2])
local expectedVersion = tonumber(ARGV[3])
local n = #ARGV - 4
if len ~= expected or version ~= expectedVersion then
  if version == expectedVersion + 1 and len == n then
    local current = redis.call('LRANGE', KEYS[1], 0, -1)
    local same = true
    for i = 1, n do
      if current[i] ~= ARGV[i + 4] then same = false break end
    end
    if same then return { 0, len, version } end
  end
  return { -4, len, version }
end

-- The stored messages are JSON documents already: joined, they form the archived version's array.
local old = redis.call('LRANGE', KEYS[1], 0, -1)
local oldOffset = redis.call('HGET', KEYS[2], 'turnOffset') or '0'
redis.call('RPUSH', KEYS[3], '{"version":' .. version .. ',"condensedAt":' .. string.format('%d', nowMs()) ..
  ',"turnOffset":' .. oldOffset .. ',"messages":[' .. table.concat(old, ',') .. ']}')
redis.call('DEL', KEYS[1])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
redis.call('HSET', KEYS[2], 'convVersion', version + 1, 'turnOffset', ARGV[4])
return { 0, n, version + 1 }
