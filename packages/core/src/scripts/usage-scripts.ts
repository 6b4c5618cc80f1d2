/**
 * Wrappers of the usage and budget scripts: budget-reserve-4, budget-release-4,
 * record-usage-4 (session slot) and tenant-reserve-1, tenant-release-1,
 * tenant-record-2 (the tenant's slot).
 */
import type { TurnKey } from './gate-scripts';
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
}

export type BudgetReserveReply = { kind: 'reserved' } | { kind: 'alreadyReserved' } | { kind: 'staleToken' } | BudgetExceeded;

function turnKeys(env: ScriptEnv, k: TurnKey, rootId: string): string[] {
  const { keys } = env;
  return [keys.gate(k.sessionId, k.taskId), keys.task(k.sessionId, k.taskId), keys.task(k.sessionId, rootId), keys.session(k.sessionId)];
}

export async function budgetReserve(env: ScriptEnv, a: BudgetReserveArgs): Promise<BudgetReserveReply> {
  const reply = (await env.run('batonBudgetReserve', turnKeys(env, a.key, a.rootId), [
    a.key.turn,
    a.runnerToken,
    Math.max(0, Math.round(a.estimate.tokens)),
    String(a.estimate.costUsd),
    opt(a.session.maxTokens),
    opt(a.session.maxCostUsd),
    opt(a.session.maxTurns),
    a.day,
  ])) as unknown[];
  switch (reply[0]) {
    case 1:
      return { kind: 'reserved' };
    case 2:
      return { kind: 'alreadyReserved' };
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
  const reply = (await env.run('batonBudgetRelease', turnKeys(env, k, rootId), [k.turn])) as unknown[];
  if (reply[0] === 0) return { kind: 'none' };
  const reservation = reply[0] === 1 ? parseReservation(String(reply[1])) : undefined;
  if (!reservation) throw new UnexpectedReplyError('budget-release', reply);
  return { kind: 'released', reservation };
}

export interface RecordUsageArgs {
  key: TurnKey;
  rootId: string;
  runnerToken: string;
  tokens: TurnTokens;
  /** null: the model has no price. */
  costUsd: number | null;
}

export type RecordUsageReply =
  { kind: 'recorded'; reservation?: Reservation } | { kind: 'alreadyRecorded' } | { kind: 'staleToken' } | { kind: 'notCommitted' };

export async function recordUsage(env: ScriptEnv, a: RecordUsageArgs): Promise<RecordUsageReply> {
  const reply = (await env.run('batonRecordUsage', turnKeys(env, a.key, a.rootId), [
    a.key.turn,
    a.runnerToken,
    a.tokens.input,
    a.tokens.output,
    a.tokens.cached,
    a.costUsd === null ? '' : String(a.costUsd),
  ])) as unknown[];
  switch (reply[0]) {
    case 1: {
      const reservation = parseReservation(String(reply[1] ?? ''));
      return reservation ? { kind: 'recorded', reservation } : { kind: 'recorded' };
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

export interface TenantReserveArgs {
  tenant: string;
  day: string;
  estimate: { tokens: number; costUsd: number };
  limits: BudgetLimits;
  ttlSeconds: number;
}

export type TenantReserveReply = { kind: 'reserved' } | BudgetExceeded;

export async function tenantReserve(env: ScriptEnv, a: TenantReserveArgs): Promise<TenantReserveReply> {
  const reply = (await env.run(
    'batonTenantReserve',
    [env.keys.tenantUsageDay(a.tenant, a.day)],
    [
      Math.max(0, Math.round(a.estimate.tokens)),
      String(a.estimate.costUsd),
      opt(a.limits.maxTokens),
      opt(a.limits.maxCostUsd),
      opt(a.limits.maxTurns),
      a.ttlSeconds,
    ],
  )) as unknown[];
  if (reply[0] === 1) return { kind: 'reserved' };
  if (reply[0] === EXCEEDED) return exceeded(reply);
  throw new UnexpectedReplyError('tenant-reserve', reply);
}

export async function tenantRelease(env: ScriptEnv, tenant: string, reservation: Reservation): Promise<void> {
  const reply = await env.run(
    'batonTenantRelease',
    [env.keys.tenantUsageDay(tenant, reservation.day)],
    [Math.round(reservation.tokens), String(reservation.costUsd)],
  );
  if (reply !== 1) throw new UnexpectedReplyError('tenant-release', reply);
}

export interface TenantRecordArgs {
  tenant: string;
  day: string;
  tokens: TurnTokens;
  costUsd: number | null;
  /** The turn's reservation, settled on the day it was made. */
  reservation?: Reservation;
  ttlSeconds: number;
}

export async function tenantRecord(env: ScriptEnv, a: TenantRecordArgs): Promise<void> {
  const { keys } = env;
  const r = a.reservation;
  const reply = await env.run(
    'batonTenantRecord',
    [keys.tenantUsageDay(a.tenant, a.day), keys.tenantUsageDay(a.tenant, r?.day ?? a.day)],
    [
      a.tokens.input,
      a.tokens.output,
      a.tokens.cached,
      a.costUsd === null ? '' : String(a.costUsd),
      r ? '1' : '0',
      Math.round(r?.tokens ?? 0),
      String(r?.costUsd ?? 0),
      a.ttlSeconds,
    ],
  );
  if (reply !== 1) throw new UnexpectedReplyError('tenant-record', reply);
}
