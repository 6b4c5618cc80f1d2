import type { ResolvedEngineOptions } from '../config';
import type { RedisClient } from '../connection';
import type { Keys } from '../keys';
import * as delta from './delta-scripts';
import * as gate from './gate-scripts';
import * as input from './input-scripts';
import * as lane from './lane-scripts';
import * as lifecycle from './lifecycle-scripts';
import * as limiter from './limiter-scripts';
import * as lock from './lock-scripts';
import { installScripts } from './loader';
import type { ScriptEnv } from './reply';
import * as task from './task-scripts';
import * as usage from './usage-scripts';

/**
 * Owns every Lua script (one method per `lua/<name>-<keys>.lua`): its keys,
 * built from the key schema, its argument packing, and its reply decoded
 * into a discriminated union. No caller sees a key list or a raw reply.
 *
 * Adding a script: the Lua file (with its KEYS/ARGV/output header), one
 * wrapper function next to its kin (`<area>-scripts.ts`: build keys, pack
 * args, decode the reply with `scriptCodeName`, throw UnexpectedReplyError
 * on anything else), one one-line method here, and a real-Redis test of
 * each reply branch in `<area>-scripts.test.ts`. `scripts.test.ts` fails
 * while a Lua file has no method.
 */
export class Scripts {
  private readonly env: ScriptEnv;

  constructor(redis: RedisClient, keys: Keys, options: ResolvedEngineOptions) {
    this.env = { run: installScripts(redis), keys, options };
  }

  // Session lanes.
  submitRoot = (a: lane.SubmitRootArgs) => lane.submitRoot(this.env, a);
  finishRoot = (sessionId: string, rootId: string) => lane.finishRoot(this.env, sessionId, rootId);
  setPaused = (sessionId: string, paused: boolean) => lane.setPaused(this.env, sessionId, paused);

  // One task.
  startTask = (sessionId: string, taskId: string) => task.startTask(this.env, sessionId, taskId);
  transition = (a: task.TransitionArgs) => task.transition(this.env, a);
  turnBoundary = (sessionId: string, taskId: string, token: string, turn?: number, carry?: task.CarriedWrites) =>
    task.turnBoundary(this.env, sessionId, taskId, token, turn, carry);
  spawnChild = (a: task.SpawnChildArgs) => task.spawnChild(this.env, a);
  appendMessages = (sessionId: string, taskId: string, token: string, carry: task.CarriedWrites) =>
    task.appendMessages(this.env, sessionId, taskId, token, carry);
  condenseConversation = (a: task.CondenseConversationArgs) => task.condenseConversation(this.env, a);

  // Human in the loop.
  askInput = (a: input.AskInputArgs) => input.askInput(this.env, a);
  deliverInput = (a: input.DeliverInputArgs) => input.deliverInput(this.env, a);

  // Request gate.
  gateBegin = (k: gate.TurnKey, runnerToken?: string) => gate.gateBegin(this.env, k, runnerToken);
  gateRenew = (k: gate.TurnKey, token: string) => gate.gateRenew(this.env, k, token);
  gateCommit = (k: gate.TurnKey, token: string, response: string, usage?: usage.TurnUsage) => gate.gateCommit(this.env, k, token, response, usage);
  gateAbandon = (k: gate.TurnKey, token: string) => gate.gateAbandon(this.env, k, token);

  // Streaming: live deltas of a turn, fenced by its gate lease.
  emitDelta = (k: gate.TurnKey, gateToken: string, data: string) => delta.emitDelta(this.env, k, gateToken, data);

  // Usage and budgets.
  budgetReserve = (a: usage.BudgetReserveArgs) => usage.budgetReserve(this.env, a);
  budgetRelease = (k: gate.TurnKey, rootId: string) => usage.budgetRelease(this.env, k, rootId);
  recordUsage = (a: usage.RecordUsageArgs) => usage.recordUsage(this.env, a);
  tenantReserve = (a: usage.TenantReserveArgs) => usage.tenantReserve(this.env, a);
  tenantRelease = (tenant: string, id: string) => usage.tenantRelease(this.env, tenant, id);
  tenantRollup = (a: usage.TenantRollupArgs) => usage.tenantRollup(this.env, a);
  modelRollup = (a: usage.ModelRollupArgs) => usage.modelRollup(this.env, a);

  // Cancel and deletion.
  cancel = (sessionId: string, taskId: string, reason: string) => lifecycle.cancel(this.env, sessionId, taskId, reason);
  stopSession = (sessionId: string, reason: string) => lifecycle.stopSession(this.env, sessionId, reason);
  deleteSession = (sessionId: string) => lifecycle.deleteSession(this.env, sessionId);
  deleteTree = (sessionId: string, rootId: string) => lifecycle.deleteTree(this.env, sessionId, rootId);
  forgetSession = (sessionId: string, score: string) => lifecycle.forgetSession(this.env, sessionId, score);

  // Fenced locks (the reconciler's).
  lockAcquire = (k: lock.LockKeys, leaseMs: number) => lock.lockAcquire(this.env, k, leaseMs);
  lockRenew = (k: lock.LockKeys, token: string, leaseMs: number) => lock.lockRenew(this.env, k, token, leaseMs);
  lockRelease = (k: lock.LockKeys, token: string) => lock.lockRelease(this.env, k, token);

  // Shared provider limiter (every worker, one scope per provider account and model).
  limiterAcquire = (scope: string, graceMs: number) => limiter.limiterAcquire(this.env, scope, graceMs);
  limiterRecord = (a: limiter.LimiterRecordArgs) => limiter.limiterRecord(this.env, a);
}
