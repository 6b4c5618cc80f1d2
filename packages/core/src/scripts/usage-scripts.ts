/**
 * Wrappers of the usage and budget scripts: budget-reserve-5, budget-release-5,
 * record-usage-6 (session slot), tenant-reserve-3, tenant-release-2,
 * tenant-rollup-4 (the tenant's slot) and model-rollup-2 (the per-model totals' slot).
 */
import { turnKeyString, type TurnKey } from './turn-key';
import { UnexpectedReplyError, type ScriptEnv } from './reply';

/** Tokens of one turn. `input` includes `cached`. */
export interface TurnTokens {
  input: number;
  output: number;
  cached: number;
}

/** A turn's reservation as stored in the gate hash (`<turn>:resv`). */
export interface Reservation {
  tokens: number;
  costUsd: number;
  /** UTC day (YYYY-MM-DD) the tenant side reserved on. */
  day: string;
}

export type BudgetScope = 'tree' | 'session' | 'tenant';
export type BudgetName = 'maxTokens' | 'maxCostUsd' | 'maxTurns';

export interface BudgetExceeded {
  kind: 'exceeded';
  scope: BudgetScope;
  budget: BudgetName;
  limit: number;
  spent: number;
}

/** Limits passed in (session and tenant budgets come from configuration). '' in Lua: none. */
export interface BudgetLimits {
  maxTokens?: number;
  maxCostUsd?: number;
  maxTurns?: number;
}

const EXCEEDED = -30;
const STALE = -2;
const opt = (v: number | undefined) => (v === undefined ? '' : String(v));

/** A reservation's estimate then its limits, as both reserve scripts take them (a missing limit: ''). */
function estimateAndLimits(estimate: { tokens: number; costUsd: number }, limits: { maxTokens?: number; maxCostUsd?: number; maxTurns?: number }): string[] {
  return [String(Math.max(0, Math.round(estimate.tokens))), String(estimate.costUsd), opt(limits.maxTokens), opt(limits.maxCostUsd), opt(limits.maxTurns)];
}

function exceeded(reply: unknown[]): BudgetExceeded {
  return { kind: 'exceeded', scope: reply[1] as BudgetScope, budget: reply[2] as BudgetName, limit: Number(reply[3]), spent: Number(reply[4]) };
}

export function parseReservation(s: string): Reservation | undefined {
  const m = /^(\S+) (\S+) (\S+)$/.exec(s);
  return m ? { tokens: Number(m[1]), costUsd: Number(m[2]), day: m[3]! } : undefined;
}

export interface BudgetReserveArgs {
  key: TurnKey;
  rootId: string;
  runnerToken: string;
  estimate: { tokens: number; costUsd: number };
  session: BudgetLimits;
  day: string;
  /** How long the reservation holds if nobody settles it (a dead worker's): request timeout x attempts + margin. */
  lifetimeMs: number;
}

export type BudgetReserveReply =
  | { kind: 'reserved' }
  | { kind: 'alreadyReserved' }
  /** No tree or session limit and no tenant day: nothing was reserved (nothing to settle). */
  | { kind: 'unbudgeted' }
  | { kind: 'committed' }
  | { kind: 'staleToken' }
  | BudgetExceeded;

function turnKeys(env: ScriptEnv, k: TurnKey, rootId: string): string[] {
  const { keys } = env;
  return [
    keys.gate(k.sessionId, k.taskId),
    keys.task(k.sessionId, k.taskId),
    keys.task(k.sessionId, rootId),
    keys.session(k.sessionId),
    keys.ofSession(k.sessionId, 'reservations'),
  ];
}

/** A turn's member in the session's reservation deadlines: what an expiry needs to find its gate entry and root. */
function reservationMember(k: TurnKey, rootId: string): string {
  return `${k.taskId} ${k.turn} ${rootId}`;
}

export async function budgetReserve(env: ScriptEnv, a: BudgetReserveArgs): Promise<BudgetReserveReply> {
  const reply = (await env.run('batonBudgetReserve', turnKeys(env, a.key, a.rootId), [
    a.key.turn,
    a.runnerToken,
    ...estimateAndLimits(a.estimate, a.session),
    a.day,
    env.keys.sessionBase(a.key.sessionId),
    reservationMember(a.key, a.rootId),
    Math.max(0, Math.round(a.lifetimeMs)),
  ])) as unknown[];
  switch (reply[0]) {
    case 1:
      return { kind: 'reserved' };
    case 2:
      return { kind: 'alreadyReserved' };
    case 3:
      return { kind: 'committed' };
    case 4:
      return { kind: 'unbudgeted' };
    case STALE:
      return { kind: 'staleToken' };
    case EXCEEDED:
      return exceeded(reply);
    default:
      throw new UnexpectedReplyError('budget-reserve', reply);
  }
}

export type BudgetReleaseReply = { kind: 'released'; reservation: Reservation } | { kind: 'none' };

export async function budgetRelease(env: ScriptEnv, k: TurnKey, rootId: string): Promise<BudgetReleaseReply> {
  const reply = (await env.run('batonBudgetRelease', turnKeys(env, k, rootId), [k.turn, reservationMember(k, rootId)])) as unknown[];
  if (reply[0] === 0) return { kind: 'none' };
  const reservation = reply[0] === 1 ? parseReservation(String(reply[1])) : undefined;
  if (!reservation) throw new UnexpectedReplyError('budget-release', reply);
  return { kind: 'released', reservation };
}

/** A committed turn's usage, as record-usage-6 (or gate-commit-6, with the commit) counts it. */
export interface TurnUsage {
  rootId: string;
  tokens?: TurnTokens;
  /** null: the model has no price. */
  costUsd?: number | null;
  /** The turn's roll-up, kept pending in the session until applied (see usage/rollups). */
  rollup?: string;
}

export interface RecordUsageArgs extends Required<TurnUsage> {
  key: TurnKey;
  runnerToken: string;
}

export type RecordUsageReply =
  | { kind: 'recorded'; reservation?: Reservation; /** Roll-ups pending in the session, this one included. */ pending: number }
  | { kind: 'alreadyRecorded' }
  | { kind: 'staleToken' }
  | { kind: 'notCommitted' };

/** The keys (gate, task, root, session, reservations, roll-ups) and the usage arguments of a turn's usage record. */
export function usageKeysAndArgs(env: ScriptEnv, k: TurnKey, u: TurnUsage): { keys: string[]; args: (string | number)[] } {
  const tokens = u.tokens ?? { input: 0, output: 0, cached: 0 };
  return {
    keys: [...turnKeys(env, k, u.rootId), env.keys.ofSession(k.sessionId, 'rollups')],
    args: [
      tokens.input,
      tokens.output,
      tokens.cached,
      u.costUsd === null || u.costUsd === undefined ? '' : String(u.costUsd),
      reservationMember(k, u.rootId),
      turnKeyString(k),
      u.rollup ?? '{}',
    ],
  };
}

/** Decodes includes/record-usage's reply (and record-usage-6's refusals). */
export function decodeRecordUsage(reply: unknown): RecordUsageReply {
  const r = Array.isArray(reply) ? (reply as unknown[]) : [];
  switch (r[0]) {
    case 1: {
      const reservation = parseReservation(String(r[1] ?? ''));
      const pending = Number(r[2]);
      return reservation ? { kind: 'recorded', reservation, pending } : { kind: 'recorded', pending };
    }
    case 0:
      return { kind: 'alreadyRecorded' };
    case STALE:
      return { kind: 'staleToken' };
    case -3:
      return { kind: 'notCommitted' };
    default:
      throw new UnexpectedReplyError('record-usage', reply);
  }
}

export async function recordUsage(env: ScriptEnv, a: RecordUsageArgs): Promise<RecordUsageReply> {
  const { keys, args } = usageKeysAndArgs(env, a.key, a);
  const [turn, ...rest] = [a.key.turn, ...args];
  return decodeRecordUsage(await env.run('batonRecordUsage', keys, [turn!, a.runnerToken, ...rest]));
}

export interface TenantReserveArgs {
  tenant: string;
  day: string;
  estimate: { tokens: number; costUsd: number };
  limits: BudgetLimits;
  ttlSeconds: number;
  /** The turn's id (`<taskId>:<turn>`): reserving it again pushes its deadline instead. */
  id: string;
  lifetimeMs: number;
}

export type TenantReserveReply = { kind: 'reserved' } | { kind: 'alreadyReserved' } | BudgetExceeded;

export async function tenantReserve(env: ScriptEnv, a: TenantReserveArgs): Promise<TenantReserveReply> {
  const r = env.keys.tenantReservations(a.tenant);
  const reply = (await env.run(
    'batonTenantReserve',
    [env.keys.tenantUsageDay(a.tenant, a.day), r.byId, r.deadlines],
    [...estimateAndLimits(a.estimate, a.limits), a.ttlSeconds, a.id, Math.max(0, Math.round(a.lifetimeMs)), env.keys.tenantUsageDayBase(a.tenant), a.day],
  )) as unknown[];
  if (reply[0] === 1) return { kind: 'reserved' };
  if (reply[0] === 2) return { kind: 'alreadyReserved' };
  if (reply[0] === EXCEEDED) return exceeded(reply);
  throw new UnexpectedReplyError('tenant-reserve', reply);
}

export type TenantReleaseReply = { kind: 'released' } | { kind: 'none' };

/** Gives back the tenant reservation of turn `id` (none: settled, released or expired already). */
export async function tenantRelease(env: ScriptEnv, tenant: string, id: string): Promise<TenantReleaseReply> {
  const r = env.keys.tenantReservations(tenant);
  const reply = await env.run('batonTenantRelease', [r.byId, r.deadlines], [id, env.keys.tenantUsageDayBase(tenant)]);
  if (reply === 1) return { kind: 'released' };
  if (reply === 0) return { kind: 'none' };
  throw new UnexpectedReplyError('tenant-release', reply);
}

export interface TenantRollupArgs {
  tenant: string;
  /** UTC day the turn was recorded on. */
  day: string;
  tokens: TurnTokens;
  costUsd: number | null;
  /** The roll-up's id (`<taskId>:<turn>`): applied once, and the tenant reservation of that id settled. */
  id: string;
  ttlSeconds: number;
  /** How long the markers of `day` remember the id after this application. */
  markerTtlSeconds: number;
}

/** `duplicate`: this id was applied already (a replay, the reconciler): nothing counted again. */
export type RollupReply = { kind: 'applied' } | { kind: 'duplicate' };

function rollupReply(name: string, reply: unknown): RollupReply {
  if (reply === 1) return { kind: 'applied' };
  if (reply === 0) return { kind: 'duplicate' };
  throw new UnexpectedReplyError(name, reply);
}

export async function tenantRollup(env: ScriptEnv, a: TenantRollupArgs): Promise<RollupReply> {
  const { keys } = env;
  const r = keys.tenantReservations(a.tenant);
  const reply = await env.run(
    'batonTenantRollup',
    [keys.tenantRolled(a.tenant, a.day, a.id), keys.tenantUsageDay(a.tenant, a.day), r.byId, r.deadlines],
    [
      a.tokens.input,
      a.tokens.output,
      a.tokens.cached,
      a.costUsd === null ? '' : String(a.costUsd),
      a.ttlSeconds,
      a.markerTtlSeconds,
      a.id,
      keys.tenantUsageDayBase(a.tenant),
    ],
  );
  return rollupReply('tenant-rollup', reply);
}

export interface ModelRollupArgs {
  model: string;
  /** UTC day the turn was recorded on (its markers' day, as for the tenant). */
  day: string;
  tokens: TurnTokens;
  costUsd: number | null;
  id: string;
  markerTtlSeconds: number;
}

export async function modelRollup(env: ScriptEnv, a: ModelRollupArgs): Promise<RollupReply> {
  const { keys } = env;
  const reply = await env.run(
    'batonModelRollup',
    [keys.modelRolled(a.day, a.id), keys.usageByModel()],
    [a.model, a.tokens.input, a.tokens.output, a.tokens.cached, a.costUsd === null ? '' : String(a.costUsd), a.markerTtlSeconds, a.id],
  );
  return rollupReply('model-rollup', reply);
}
