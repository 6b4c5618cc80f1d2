/**
 * Streaming overhead: 1,000 tokens of 4 characters pushed through the real
 * delta publisher (DELTA_FLUSH_MS=50, the default) into a private
 * redis-server, one token every 2 ms and, in a second run, every 10 ms. What a
 * streamed turn costs Redis and the worker per 1,000 tokens: Redis commands
 * (INFO commandstats deltas, the commands inside the emit-delta script
 * included), bytes Redis received (INFO stats total_net_input_bytes), the
 * worker's CPU (process.cpuUsage of the bench process, which does nothing
 * else meanwhile), and the delta entries left in the stream once the turn
 * committed (0: the publisher's XDEL removed them). A private server, so that
 * nobody else's commands are counted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Engine } from '@baton/core';
import { RedisServer } from '@baton/testkit';
import { DeltaPublisher } from '@baton/worker';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { commandStats, diffCounts, total, type CommandCounts } from './redis-probe';
import type { BenchReport, ResultRow } from './report';

const TOKENS = 1000;
const TOKEN = 'abcd';
const FLUSH_MS = 50;

interface Probe {
  commands: CommandCounts;
  inputBytes: number;
  cpu: NodeJS.CpuUsage;
}

async function probe(redis: Redis): Promise<Probe> {
  const stats = await redis.info('stats');
  return { commands: await commandStats(redis), inputBytes: Number(/total_net_input_bytes:(\d+)/.exec(stats)?.[1] ?? NaN), cpu: process.cpuUsage() };
}

interface Run {
  everyMs: number;
  events: number;
  commands: number;
  byCommand: CommandCounts;
  inputBytes: number;
  cpuMs: number;
  loopCpuMs: number;
  left: number;
  seconds: number;
}

const cpuMs = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage) => (a.user - b.user + a.system - b.system) / 1000;

/** The probe's own INFO calls are not the publisher's. */
const withoutInfo = (c: CommandCounts) => Object.fromEntries(Object.entries(c).filter(([name]) => name !== 'info'));

async function run(server: RedisServer, everyMs: number, name = `${everyMs}`): Promise<Run> {
  const redis = new Redis(server.url);
  const engine = new Engine(server.url, { prefix: `bench-stream-${name}` }, pino({ level: 'silent' }));
  try {
    const sessionId = `s-${name}`;
    const taskId = `t-${name}`;
    await engine.submit({ sessionId, taskId, prompt: 'p', mode: 'code' });
    const started = await engine.scripts.startTask(sessionId, taskId);
    if (started.kind !== 'ok') throw new Error(`start: ${started.kind}`);
    const key = { sessionId, taskId, turn: 1 };
    const grant = await engine.scripts.gateBegin(key, started.token);
    if (grant.kind !== 'granted') throw new Error(`gate: ${grant.kind}`);
    const publisher = new DeltaPublisher(engine, key, { flushMs: FLUSH_MS, maxEventsPerTurn: 1000 }, pino({ level: 'warn' }));
    publisher.granted(grant);
    // Warm the script cache (EVALSHA thereafter), then measure.
    await engine.scripts.emitDelta(key, 'not-the-token', '{}');

    // The token loop alone (no publisher): its CPU is the baseline the publisher's adds to.
    const idle = process.cpuUsage();
    for (let i = 0; i < TOKENS; i++) await sleep(everyMs);
    const loopCpuMs = cpuMs(process.cpuUsage(), idle);

    const before = await probe(redis);
    const t0 = Date.now();
    for (let i = 0; i < TOKENS; i++) {
      publisher.push({ attempt: 1, text: TOKEN });
      await sleep(everyMs);
    }
    await publisher.finish();
    const seconds = (Date.now() - t0) / 1000;
    const mid = await probe(redis);
    if ((await engine.scripts.gateCommit(key, grant.token, '"done"')).kind !== 'committed') throw new Error('commit refused');
    const committed = await probe(redis);
    await publisher.close();
    const after = await probe(redis);

    const byCommand = withoutInfo(diffCounts(mid.commands, before.commands));
    for (const [name, n] of Object.entries(withoutInfo(diffCounts(after.commands, committed.commands)))) byCommand[name] = (byCommand[name] ?? 0) + n;
    // INFO requests are counted in the input bytes too: a few dozen bytes each, 4 probes, left in (noise below 0.1%).
    const inputBytes = mid.inputBytes - before.inputBytes + (after.inputBytes - committed.inputBytes);
    const publisherCpuMs = cpuMs(mid.cpu, before.cpu) + cpuMs(after.cpu, committed.cpu);
    const left = (await redis.xrange(engine.keys.events(sessionId), '-', '+')).filter(([, f]) => f[1] === 'message.delta').length;
    return { everyMs, events: publisher.events, commands: total(byCommand), byCommand, inputBytes, cpuMs: publisherCpuMs, loopCpuMs, left, seconds };
  } finally {
    await engine.close();
    redis.disconnect();
  }
}

export async function benchStream(_o: BenchOptions, _fake: RemoteFakeProvider): Promise<BenchReport> {
  const server = await RedisServer.start('bench-stream', ['--appendonly', 'no']);
  const runs: Run[] = [];
  try {
    await run(server, 1, 'warm-up'); // JIT and connections warm, not reported
    for (const everyMs of [2, 10]) runs.push(await run(server, everyMs));
  } finally {
    await server.destroy();
  }
  const rows: ResultRow[] = runs.flatMap((r) => {
    const base = { bench: 'stream', baseline: `${TOKENS} (one event per token)`, baselineName: 'uncoalesced' };
    const label = `token every ${r.everyMs} ms`;
    return [
      {
        ...base,
        metric: `message.delta events per 1k tokens (${label})`,
        baton: String(r.events),
        target: `~ stream time / ${FLUSH_MS} ms`,
        verdict: '' as const,
      },
      {
        ...base,
        metric: `Redis commands per 1k tokens (${label})`,
        baton: String(r.commands),
        baseline: '',
        baselineName: '',
        target: '',
        verdict: '' as const,
        note: Object.entries(r.byCommand)
          .map(([name, n]) => `${name} ${n}`)
          .join(', '),
      },
      {
        ...base,
        metric: `bytes sent to Redis per 1k tokens (${label})`,
        baton: String(r.inputBytes),
        baseline: '',
        baselineName: '',
        target: '',
        verdict: '' as const,
      },
      {
        ...base,
        metric: `worker CPU ms per 1k tokens (${label})`,
        baton: r.cpuMs.toFixed(1),
        baseline: r.loopCpuMs.toFixed(1),
        baselineName: 'the token loop alone',
        target: '',
        verdict: '' as const,
      },
      {
        ...base,
        metric: `delta entries left after the commit (${label})`,
        baton: String(r.left),
        baseline: '',
        baselineName: '',
        target: '0',
        verdict: r.left === 0 ? ('MET' as const) : ('MISSED' as const),
      },
    ];
  });
  return {
    name: 'stream',
    title: 'Streaming overhead (Redis commands and CPU per 1k tokens)',
    rows,
    notes: [
      `${TOKENS} tokens of ${TOKEN.length} characters through the worker's DeltaPublisher (DELTA_FLUSH_MS=${FLUSH_MS}, DELTA_MAX_EVENTS_PER_TURN=1000) into a private redis-server; streams lasted ${runs.map((r) => `${r.seconds.toFixed(1)} s`).join(' and ')} (timer granularity makes "every 2 ms" slower).`,
      'Counted: every command Redis ran for the publisher (EVALSHA of emit-delta-3 and the HGET/TIME/XADD inside it, then the one XDEL after the commit); the gate commit itself is not counted (a turn commits streamed or not). Bytes: total_net_input_bytes, i.e. what the worker sent Redis (the probe INFO calls included, about 100 bytes).',
      'Each event runs 4 HGETs (gate state, token and runner, the task’s runner), a TIME, an XADD with MAXLEN ~ and an XTRIM MINID ~ (the age cap, 7 days by default): emit() of common.lua, as every event.',
    ],
  };
}
