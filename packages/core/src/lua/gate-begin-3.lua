--[[
  Request gate, step 1, for one turn key <taskId>:<turn>.
  Returns the committed response if there is one; else grants a lease with a
  fresh fencing token; else reports the live lease of another caller.
  A live lease is never taken over, even when its holder's runner has been
  fenced out (job re-taken after a stall): the fenced-out holder's next renew
  fails, it aborts its call and abandons the lease, which wakes this caller.
  So the provider never sees the old and the new request at once while the
  old process is alive; a dead or frozen holder's lease simply expires.

  KEYS[1] gate hash of the task (fields <turn>:state|token|until|runner|response|grants)
  KEYS[2] task hash (runner fence; may not exist for a bare gate)
  KEYS[3] fence counter

  ARGV[1] turn
  ARGV[2] caller's runner token ('' when the caller is not a task runner)
  ARGV[3] lease ms

  Output: { 1, response }            committed
          { 2, token, grants }       granted: call the model
          { 3, leaseUntilMs, token } in flight elsewhere: wait for it
          { -2 }                     caller's runner token is stale
]]
--- @include "includes/common"

local t = ARGV[1]
local state = redis.call('HGET', KEYS[1], t .. ':state')
if state == 'committed' then return { 1, redis.call('HGET', KEYS[1], t .. ':response') } end

local taskRunner = redis.call('HGET', KEYS[2], 'runner')
if ARGV[2] ~= '' and taskRunner ~= ARGV[2] then return { -2 } end

local now = nowMs()
if state == 'inflight' then
  local untilMs = tonumber(redis.call('HGET', KEYS[1], t .. ':until'))
  if untilMs > now then
    return { 3, tostring(untilMs), redis.call('HGET', KEYS[1], t .. ':token') }
  end
end

local token = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[1], t .. ':state', 'inflight', t .. ':token', token,
  t .. ':until', now + tonumber(ARGV[3]), t .. ':runner', ARGV[2])
local grants = redis.call('HINCRBY', KEYS[1], t .. ':grants', 1)
return { 2, tostring(token), grants }
