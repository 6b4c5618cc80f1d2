import type { Logger } from 'pino';
import type { EngineContext } from '../engine-context';
import type { InputRequest, InputResponse } from '../model/pending-input';
import type { Task } from '../model/task';
import type { Scripts } from '../scripts/scripts';
import type { RedisClient } from '../connection';

/** What metering needs of the running task (a TaskContext is one; no import of it, so no cycle). */
export interface MeteredRunner {
  readonly engine: { readonly scripts: Scripts; readonly redis: RedisClient; readonly ctx: EngineContext };
  readonly sessionId: string;
  readonly taskId: string;
  readonly token: string;
  readonly task: Task;
  readonly logger: Logger;
  awaitInput(toolCallId: string, request: InputRequest): Promise<InputResponse>;
  /** Whether the task's tree has a budget, if known (read with the claim); unknown: the reserve script decides. */
  readonly treeBudgeted?: boolean;
  /** Deletes an applied roll-up from the session's pending ones with the runner's next script (absent: now). */
  forgetRollupLater?(id: string): void;
}
import { TaskFailure } from '../runtime/signals';
import { StaleRunnerError } from '../errors';
import type { BudgetExceeded, BudgetLimits, RecordUsageReply, TurnTokens, TurnUsage } from '../scripts/usage-scripts';
import { turnKeyString, type TurnKey } from '../scripts/turn-key';
import { PriceTable } from './prices';
import { applyRollup, drainRollups, type Rollup } from './rollups';

/**
 * Usage and budgets of a deployment (a worker's configuration): prices, and
 * the session and tenant budgets (a tenant's per UTC day). Tree budgets come
 * with each submission and are stored on the root.
 */
export interface UsageConfig {
  prices: PriceTable;
  session?: BudgetLimits;
  tenant?: BudgetLimits;
  /** TTL of a tenant's day of usage (default 400 days). */
  tenantUsageTtlS?: number;
  /**
   * How long a turn's budget reservation holds when nobody settles it (its
   * worker died): the longest a request can take (timeout x attempts +
   * backoff) plus a margin. Default 15 minutes.
   */
  reservationLifetimeMs?: number;
  /** How long applied roll-ups are remembered (usage/rollups rollupMarkerTtlS); default ROLLUP_MARKER_TTL_S. */
  rollupMarkerTtlS?: number;
}

export const DEFAULT_RESERVATION_LIFETIME_MS = 15 * 60_000;

/** What `TaskContext.gate` needs to meter one turn. */
export interface TurnMetering {
  config: UsageConfig;
  /** The model asked (the price looked up, and the per-model totals it counts in). */
  model: string;
  /** Estimated tokens of the turn (the conversation's), reserved against budgets until the turn commits. */
  estimateTokens: number;
  /** The tokens a committed response reports (none: the turn counts, with zero tokens). */
  tokensOf(response: unknown): TurnTokens | undefined;
}

export const DEFAULT_TENANT_USAGE_TTL_S = 400 * 24 * 3600;

/** UTC day `YYYY-MM-DD` of `ms`. */
export function utcDay(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(0, 10);
}

const hasLimits = (l: BudgetLimits | undefined): l is BudgetLimits =>
  !!l && (l.maxTokens !== undefined || l.maxCostUsd !== undefined || l.maxTurns !== undefined);

/** The approval a task parked on asks for (`onBudget: "ask"`). */
export const CONTINUE_OVER_BUDGET = 'continue_over_budget';

/**
 * Before a turn's gate: check and reserve its estimate against the tree and
 * session budgets (one script, budget-reserve-5) and then the tenant's day
 * (tenant-reserve-3; on refusal the session side is given back). Over a
 * budget: with the root's `onBudget: "ask"`, parks for approval (an approval
 * lifts that budget for the rest of this tree, `bIgnore:<scope>` on the root)
 * and otherwise fails the task with BUDGET_EXCEEDED.
 */
export async function reserveTurn(ctx: MeteredRunner, turn: number | string, m: TurnMetering): Promise<void> {
  const { scripts, redis, ctx: ectx } = ctx.engine;
  const key: TurnKey = { sessionId: ctx.sessionId, taskId: ctx.taskId, turn };
  const lifetimeMs = m.config.reservationLifetimeMs ?? DEFAULT_RESERVATION_LIFETIME_MS;
  const rootKey = ectx.keys.task(ctx.sessionId, ctx.task.rootId);
  const price = m.config.prices.costOf(m.model, { input: m.estimateTokens, output: 0, cached: 0 }) ?? 0;
  const estimate = { tokens: m.estimateTokens, costUsd: price };
  const tenantLimits = hasLimits(m.config.tenant) ? m.config.tenant : undefined;
  // No budget of any scope applies (the common deployment): nothing to check, and a reservation
  // would only be written now to be settled at the commit. The script would answer `unbudgeted`.
  if (ctx.treeBudgeted === false && !hasLimits(m.config.session) && !tenantLimits) return;
  for (;;) {
    const day = utcDay();
    const tenantOn = tenantLimits && (await redis.hget(rootKey, 'bIgnore:tenant')) !== '1';
    const reply = await scripts.budgetReserve({
      key,
      rootId: ctx.task.rootId,
      runnerToken: ctx.token,
      estimate,
      session: m.config.session ?? {},
      // '-': no tenant reservation to settle for this turn.
      day: tenantOn ? day : '-',
      lifetimeMs,
    });
    if (reply.kind === 'staleToken') throw new StaleRunnerError(ctx.taskId, `budget reserve for turn ${turn}`);
    if (reply.kind === 'committed' || reply.kind === 'unbudgeted') return;
    let over: BudgetExceeded | undefined = reply.kind === 'exceeded' ? reply : undefined;
    // Also after `alreadyReserved`: a crash between the two reserves left the tenant side without
    // one; the tenant script reserves an id once (a second call only pushes its deadline).
    if (!over && tenantOn) {
      const t = await scripts.tenantReserve({
        tenant: ctx.task.tenant,
        day,
        estimate,
        limits: tenantLimits,
        ttlSeconds: m.config.tenantUsageTtlS ?? DEFAULT_TENANT_USAGE_TTL_S,
        id: turnKeyString(key),
        lifetimeMs,
      });
      if (t.kind === 'exceeded') {
        await scripts.budgetRelease(key, ctx.task.rootId);
        over = t;
      }
    }
    if (!over) return;
    await overBudget(ctx, turn, over, rootKey);
  }
}

async function overBudget(ctx: MeteredRunner, turn: number | string, over: BudgetExceeded, rootKey: string): Promise<void> {
  const { redis } = ctx.engine;
  const budget = `${over.scope}.${over.budget}`;
  const spent = Math.round(over.spent * 1e9) / 1e9;
  const message = `turn ${turn} would start over the ${over.scope} budget ${over.budget}: limit ${over.limit}, spent ${spent} (including turns in flight)`;
  if ((await redis.hget(rootKey, 'onBudget')) !== 'ask') throw new TaskFailure('BUDGET_EXCEEDED', message);
  ctx.logger.info({ budget, limit: over.limit, spent }, 'over budget: asking to continue');
  const response = await ctx.awaitInput(`budget-${turn}-${over.scope}`, {
    kind: 'approval',
    tool: CONTINUE_OVER_BUDGET,
    arguments: { budget, limit: over.limit, spent },
  });
  if (response.kind !== 'approval' || !response.approved) throw new TaskFailure('BUDGET_EXCEEDED', `${message}; continuing was refused`);
  // Approved: this budget no longer stops this tree (a plain field on the root; idempotent on replay).
  await redis.hset(rootKey, `bIgnore:${over.scope}`, '1');
}

/**
 * A turn that ends without a commit gives its reservations back. Best effort:
 * after a crash nobody does, and the reservations expire instead (their
 * lifetime, see budget-reserve-5 and tenant-reserve-3).
 */
export async function releaseTurn(ctx: MeteredRunner, turn: number | string): Promise<void> {
  const { scripts } = ctx.engine;
  const key: TurnKey = { sessionId: ctx.sessionId, taskId: ctx.taskId, turn };
  const released = await scripts.budgetRelease(key, ctx.task.rootId);
  if (released.kind === 'released' && released.reservation.day !== '-') await scripts.tenantRelease(ctx.task.tenant, turnKeyString(key));
}

/**
 * After the gate: records the committed turn's usage once (record-usage-6,
 * fenced, idempotent per turn: a replayed commit is not counted again) with
 * its roll-up kept pending in the session, then applies the roll-up to the
 * tenant's day and the per-model totals (once each, usage/rollups). A crash
 * in between leaves the roll-up pending: the turn's replay (which records
 * `alreadyRecorded`) or the reconciler applies it; nothing is lost or
 * counted twice.
 */
export async function recordTurn(ctx: MeteredRunner, turn: number | string, m: TurnMetering, response: unknown): Promise<void> {
  const { usage, rollup } = turnUsage(ctx, m, response);
  const key: TurnKey = { sessionId: ctx.sessionId, taskId: ctx.taskId, turn };
  const reply = await ctx.engine.scripts.recordUsage({
    key,
    runnerToken: ctx.token,
    rootId: usage.rootId,
    tokens: usage.tokens!,
    costUsd: usage.costUsd!,
    rollup: usage.rollup!,
  });
  await settleRecorded(ctx, turn, reply, rollup);
}

/** What a committed response's usage counts (tokens, cost) and its roll-up (tenant's day, model). */
export function turnUsage(ctx: MeteredRunner, m: TurnMetering, response: unknown): { usage: TurnUsage; rollup: Rollup } {
  const tokens = m.tokensOf(response) ?? { input: 0, output: 0, cached: 0 };
  const costUsd = m.config.prices.costOf(m.model, tokens);
  const rollup: Rollup = {
    tenant: ctx.task.tenant,
    day: utcDay(),
    model: m.model,
    tokens,
    costUsd,
    ttlSeconds: m.config.tenantUsageTtlS ?? DEFAULT_TENANT_USAGE_TTL_S,
    ...(m.config.rollupMarkerTtlS ? { markerTtlSeconds: m.config.rollupMarkerTtlS } : {}),
  };
  return { usage: { rootId: ctx.task.rootId, tokens, costUsd, rollup: JSON.stringify(rollup) }, rollup };
}

/**
 * After a turn's usage was counted (by record-usage-6, or by the gate's
 * commit in the same script): applies its roll-up, or drains what a crash
 * left pending when it had been counted before.
 */
export async function settleRecorded(ctx: MeteredRunner, turn: number | string, reply: RecordUsageReply, rollup: Rollup): Promise<void> {
  const key: TurnKey = { sessionId: ctx.sessionId, taskId: ctx.taskId, turn };
  if (reply.kind === 'staleToken') throw new StaleRunnerError(ctx.taskId, `record usage of turn ${turn}`);
  if (reply.kind === 'notCommitted') return;
  if (reply.kind === 'recorded') {
    await ctx.engine.ctx.racepoints.beforeUsageRollup?.(ctx.sessionId, turnKeyString(key));
    await applyRollup(ctx.engine, ctx.sessionId, turnKeyString(key), rollup, ctx.forgetRollupLater?.bind(ctx));
    // Others pending: left by a crashed worker of this session; O(1) unless there are.
    if (reply.pending > 1) await drainRollups(ctx.engine, ctx.sessionId);
    return;
  }
  // A replay of a recorded turn: its roll-up may be what a crash left pending.
  await drainRollups(ctx.engine, ctx.sessionId);
}
