/**
 * Peer: Restate (durable execution). The server binary from npm's
 * `@restatedev/restate-server` runs as a child process (restate-server.ts);
 * the services (restate-services.ts) are served from this process over HTTP/2
 * and registered with the admin API; requests go through the HTTP ingress.
 *
 * - Throughput: `throughputTasks` invocations of `BenchSession/<own key>/turn`
 *   (one model call in `ctx.run`), `o.concurrency` requests in flight, clock
 *   from the first request to the last response.
 * - Resume: `resumeSessions` invocations of `BenchSession/<key>/orchestrate`
 *   with `resumeSteps` subtasks (`resumeParallel` in flight), measuring child
 *   finished (its model call journaled, handler returning) -> the parent's
 *   next model call started (inside its `ctx.run`), hrtime in this process.
 *
 * Anything that does not work is reported in the table as such, with the
 * error; no number is made up.
 */
import { readFileSync } from 'node:fs';
import type { RemoteFakeProvider } from '../fake-provider-client';
import type { BenchOptions } from '../options';
import { plainCall, plainProvider } from '../plain-call';
import { verdict, type BenchReport, type ResultRow } from '../report';
import { fmt, nowMs, pool, summarize, type Summary } from '../stats';
import { batonFigure, notRun } from './baton-figures';
import { RestateServer, restateServerVersion } from './restate-server';
import { RestateEndpoint } from './restate-services';

const REQUEST_TIMEOUT_MS = 60_000;

function sdkVersion(): string {
  // The SDK's exports map lists ./package.json.
  return (JSON.parse(readFileSync(require.resolve('@restatedev/restate-sdk/package.json'), 'utf8')) as { version: string }).version;
}

class Ingress {
  constructor(private readonly url: string) {}

  async call(object: string, key: string, handler: string, body: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}/${object}/${encodeURIComponent(key)}/${handler}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      // Restate retries a failing handler forever; a stuck invocation must fail the bench, not hang it.
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`ingress ${object}/${key}/${handler}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text) as unknown;
  }

  /** Right after registration the ingress may not know the services yet: retry the first call for a while. */
  async firstCall(): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.call('BenchSession', `ready-${attempt}`, 'turn', 'ready');
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

interface Measured {
  perSecond: number;
  endpointCpuMs: number;
  serverCpuMs: number;
  resume: Summary;
  providerRequests: number;
  expectedRequests: number;
}

async function measure(o: BenchOptions, fake: RemoteFakeProvider, server: RestateServer): Promise<Measured> {
  const childDone = new Map<string, number>();
  const resumeSamples: number[] = [];
  let measuring = false;
  const provider = plainProvider(fake.url);
  let endpoint: RestateEndpoint | undefined;
  try {
    endpoint = await RestateEndpoint.start({
      model: (sessionId, key, prompt) => plainCall(provider, sessionId, key, prompt),
      childDone(parent, step) {
        childDone.set(`${parent}:${step}`, nowMs());
      },
      parentTurnStarted(key, step) {
        if (step === 0) return;
        const since = childDone.get(`${key}:${step - 1}`);
        childDone.delete(`${key}:${step - 1}`);
        if (since !== undefined && measuring) resumeSamples.push(nowMs() - since);
      },
    });
    await server.register(endpoint.url);
    const ingress = new Ingress(server.ingressUrl);
    await ingress.firstCall();
    const turns = (tag: string, n: number) =>
      pool(
        Array.from({ length: n }, (_, i) => i),
        o.concurrency,
        async (i) => {
          await ingress.call('BenchSession', `t${tag}-${i}`, 'turn', `task ${i}`);
        },
      );
    const orchestrations = (tag: string, n: number) =>
      pool(
        Array.from({ length: n }, (_, i) => i),
        o.resumeParallel,
        async (i) => {
          await ingress.call('BenchSession', `r${tag}-${i}`, 'orchestrate', o.resumeSteps);
        },
      );
    // Warm-up (JIT, HTTP/2 connections, the server's partitions), not counted.
    await turns('w', 500);
    await orchestrations('w', Math.min(20, o.resumeSessions));
    await fake.reset();

    const n = o.throughputTasks;
    const server0 = server.cpuSeconds();
    const cpu0 = process.cpuUsage();
    const t0 = nowMs();
    await turns('m', n);
    const ms = nowMs() - t0;
    const cpu = process.cpuUsage(cpu0);
    const serverCpuMs = ((server.cpuSeconds() - server0) * 1000) / n;

    measuring = true;
    await orchestrations('m', o.resumeSessions);
    measuring = false;
    const stats = await fake.stats();
    return {
      perSecond: (n / ms) * 1000,
      endpointCpuMs: (cpu.user + cpu.system) / 1000 / n,
      serverCpuMs,
      resume: summarize(resumeSamples),
      providerRequests: stats.total,
      expectedRequests: n + o.resumeSessions * (2 * o.resumeSteps + 1),
    };
  } finally {
    // The server first: it holds HTTP/2 sessions to the endpoint open.
    await server.stop();
    await endpoint?.close();
    provider.close();
  }
}

function failedReport(o: BenchOptions, err: unknown, version: string): BenchReport {
  const message = err instanceof Error ? err.message : String(err);
  const cell = `did not run: ${message.slice(0, 200)}`;
  const row = (metric: string): ResultRow => ({
    bench: 'peer Restate',
    metric,
    baton: '',
    baseline: cell,
    baselineName: `Restate ${version}`,
    target: '',
    verdict: '',
  });
  return {
    name: 'restate',
    title: 'Peer: Restate',
    rows: [row('single-turn tasks/s vs Restate invocations/s'), row('child finished -> parent next model call started, ms: p50 / p99')],
    notes: [
      `The Restate peer failed on this machine, so it has no figures: ${message}`,
      `Sizes it would have used: ${o.throughputTasks} invocations, ${o.resumeSessions} orchestrations x ${o.resumeSteps} subtasks.`,
    ],
  };
}

export async function benchRestate(o: BenchOptions, fake: RemoteFakeProvider, earlier: BenchReport[]): Promise<BenchReport> {
  let version = 'unknown';
  let m: Measured;
  try {
    version = `server ${restateServerVersion()}, sdk ${sdkVersion()}`;
    await fake.reset();
    const server = await RestateServer.start();
    try {
      m = await measure(o, fake, server);
    } finally {
      await server.stop(); // idempotent; measure stops it before closing the endpoint
    }
  } catch (err) {
    return failedReport(o, err, version);
  }
  const name = `Restate (${version}), single node`;
  const batonTp = batonFigure(earlier, 'throughput', 'tasksPerSecond');
  const batonNodeCpu = batonFigure(earlier, 'throughput', 'nodeCpuMs');
  const batonRedisCpu = batonFigure(earlier, 'throughput', 'redisCpuMs');
  const batonP50 = batonFigure(earlier, 'resume', 'resumeP50');
  const batonP99 = batonFigure(earlier, 'resume', 'resumeP99');
  const tpRatio = batonTp.value !== undefined ? batonTp.value / m.perSecond : undefined;
  const beatsResume = batonP99.value !== undefined ? batonP99.value < m.resume.p99 : undefined;
  const rows: ResultRow[] = [
    {
      bench: 'peer Restate',
      metric: `single-turn tasks/s vs Restate invocations/s (virtual object per session, model call in ctx.run, ${o.throughputTasks} calls, ${o.concurrency} in flight)`,
      baton: batonTp.value !== undefined ? fmt(batonTp.value, 0) : notRun(batonTp),
      baseline: fmt(m.perSecond, 0),
      baselineName: name,
      target: '',
      verdict: '',
      note: tpRatio !== undefined ? `ratio ${fmt(tpRatio, 2)}x` : '',
    },
    {
      bench: 'peer Restate',
      metric: 'CPU ms per task/invocation: worker (endpoint) process / store (Redis, restate-server)',
      baton:
        batonNodeCpu.value !== undefined && batonRedisCpu.value !== undefined
          ? `${fmt(batonNodeCpu.value, 3)} / ${fmt(batonRedisCpu.value, 3)}`
          : notRun(batonNodeCpu),
      baseline: `${fmt(m.endpointCpuMs, 3)} / ${fmt(m.serverCpuMs, 3)}`,
      baselineName: name,
      target: '',
      verdict: '',
    },
    {
      bench: 'peer Restate',
      metric: `parent resume: child finished -> parent's next model call started, ms (Restate n=${m.resume.n}): p50 / p99`,
      baton: batonP50.value !== undefined && batonP99.value !== undefined ? `${fmt(batonP50.value, 2)} / ${fmt(batonP99.value, 2)}` : notRun(batonP50),
      baseline: `${fmt(m.resume.p50, 2)} / ${fmt(m.resume.p99, 2)}`,
      baselineName: name,
      target: 'Baton p99 < Restate p99',
      verdict: beatsResume !== undefined ? verdict(beatsResume) : '',
      note: `Restate max ${fmt(m.resume.max, 1)} ms`,
    },
  ];
  const notes = [
    `Setup: restate-server from npm (@restatedev/restate-server, ${version}), the platform binary started as a child process: single node with all roles, default 24 partitions, its own temp base dir (deleted afterwards), free TCP ports on 127.0.0.1, telemetry off, RocksDB memory 512 MiB; killed at the end. Services (restate-services.ts) served from the bench process by the SDK's createEndpointHandler on a node:http2 server (h2c, bidirectional streaming) and registered with POST /deployments on the admin API. Calls through the HTTP ingress with fetch (keep-alive). The model call is the plain baseline's (plain-call.ts) to the fake provider in its own process, answering at once.`,
    `Throughput: ${o.throughputTasks} request-response invocations of the virtual object handler \`BenchSession/<own key>/turn\` (one \`ctx.run\` around the model call; each in its own key, like Baton's one session per task), ${o.concurrency} in flight (Baton: a queue drained by concurrency ${o.concurrency}); after 500 warm-up calls. CPU: this process (the endpoint and the ingress client) and the restate-server process (/proc), per invocation.`,
    `Resume: ${o.resumeSessions} invocations of \`BenchSession/<key>/orchestrate\` with ${o.resumeSteps} subtasks, ${o.resumeParallel} in flight (Baton's resume bench shape): model call in \`ctx.run\`, then for each subtask an awaited \`ctx.serviceClient(BenchSubtask).run(...)\` (the subtask makes its own model call in \`ctx.run\`), then the parent's next model call. "Child finished" = the subtask's \`ctx.run\` returned and its handler is returning (its output is then committed by the server, which is inside the measured interval; Baton's clock starts after its terminal transition committed); "started" = the parent's next \`ctx.run\` closure began. Baton's figure is bench 2's (child terminal -> parent turn started).`,
    `Provider requests seen during the measured part: ${m.providerRequests} (expected ${m.expectedRequests}: one per turn and per subtask; more means a \`ctx.run\` was retried).`,
    ...(beatsResume === false
      ? [
          `Why the resume target is missed: Baton's parent resume (p99 ${fmt(batonP99.value ?? Number.NaN, 2)} ms) is slower than Restate's (${fmt(m.resume.p99, 2)} ms). Restate keeps the parent invocation's HTTP/2 stream open while it awaits the child (it suspends only after the SDK's inactivity timeout, 1 min by default), so resuming is one message from the server on an open stream; Baton moves the parent job back to the queue, fetches it and replays its state from Redis (see bench 2's note for the round trips). Beating it takes the resume-path folding in the issue (parent turn started within a couple of round trips of the child's terminal script).`,
        ]
      : []),
  ];
  return { name: 'restate', title: 'Peer: Restate', rows, notes };
}
