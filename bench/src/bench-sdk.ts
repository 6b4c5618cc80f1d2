/**
 * Hand-written provider clients vs the official SDKs (`openai`,
 * `@anthropic-ai/sdk`, retries off), to decide which one the worker uses.
 *
 * Speed: each client in a process of its own (sdk-client-process.ts),
 * against the testkit fake in another (answering at once, and after 20 ms),
 * N non-streaming requests of the same body (a short conversation with one
 * tool) at 16 and 64 in flight, after a warm-up; requests/s, latency, the
 * client process's CPU per request and its RSS growth. Baton and SDK take
 * turns going first, so a busy machine hurts neither side more.
 *
 * Contract (sdk-contract.ts): the Idempotency-Key every attempt carries
 * when a request is retried, and how fast an abort ends a request.
 * Weight: load time, RSS after loading, the installed closure.
 */
import { BenchChild } from './child-process';
import { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { packageWeight, type PackageWeight } from './package-weight';
import { verdict, type BenchReport, type ResultRow } from './report';
import type { LoadFigures, RunFigures } from './sdk-client-process';
import type { ClientName } from './sdk-clients';
import { contractChecks, type AbortCheck, type KeyCaseId, type KeyCheck } from './sdk-contract';
import { fmt } from './stats';

const LATENCIES_MS = [0, 20];

interface Protocol {
  label: string;
  baton: ClientName;
  sdk: ClientName;
  sdkPackage: string;
}

const PROTOCOLS: Protocol[] = [
  { label: 'OpenAI chat', baton: 'baton-openai', sdk: 'sdk-openai', sdkPackage: 'openai' },
  { label: 'Anthropic messages', baton: 'baton-anthropic', sdk: 'sdk-anthropic', sdkPackage: '@anthropic-ai/sdk' },
];

type Reply<T> = T | { error: string };

async function ask<T>(child: BenchChild, cmd: string, extra: Record<string, unknown>): Promise<T> {
  const reply = await child.request<Reply<T>>(cmd, extra);
  if (reply && typeof reply === 'object' && 'error' in reply) throw new Error(`${cmd}: ${reply.error}`);
  return reply as T;
}

function figures(r: RunFigures): string {
  return `${fmt(r.perSecond, 0)}; ${fmt(r.p50Ms, 2)} / ${fmt(r.p99Ms, 2)}; ${fmt(r.cpuMsPerRequest, 3)}; ${r.rssDeltaMiB >= 0 ? '+' : ''}${fmt(r.rssDeltaMiB, 1)}`;
}

/** `k / k (same key)`, `none / none`, ... for the attempts of one check. */
function keysText(check: KeyCheck | undefined): string {
  if (!check) return 'n/a';
  const keys = check.keys.map((k) => (k === null ? 'none' : 'key'));
  const distinct = new Set(check.keys);
  const what = check.keys.every((k) => k === null) ? 'no key sent' : distinct.size === 1 ? 'same key' : `${distinct.size} different keys`;
  const counts = check.retryCounts.some((c) => c !== null) ? `, retry-count ${check.retryCounts.join('/')}` : '';
  return `${keys.join(' / ')} (${what}${counts}${check.succeeded ? '' : '; call failed'})`;
}

function sameKeyEveryAttempt(check: KeyCheck | undefined): boolean {
  return !!check && check.keys.length >= 2 && check.keys[0] !== null && new Set(check.keys).size === 1 && check.succeeded;
}

function abortText(a: AbortCheck | undefined): string {
  if (!a) return 'n/a';
  const closed = Number.isFinite(a.closedP50Ms) ? `${fmt(a.closedP50Ms, 2)} / ${fmt(a.closedMaxMs, 2)}` : 'not within 2 s';
  return `${fmt(a.rejectP50Ms, 2)} / ${fmt(a.rejectMaxMs, 2)}; ${closed}; rejects with ${a.rejection === 'reason' ? 'the signal reason' : a.rejection}`;
}

function weightText(load: LoadFigures, weight: PackageWeight | null): string {
  const installed = weight ? `${fmt(weight.bytes / 1024 / 1024, 1)} MiB in ${weight.packages} package(s)` : '0 new packages (zod, already used)';
  return `${fmt(load.loadMs, 0)} ms; +${fmt(load.rssAfterMiB - load.rssBeforeMiB, 1)} MiB; ${installed}`;
}

export async function benchSdk(o: BenchOptions, fake0: RemoteFakeProvider): Promise<BenchReport> {
  const n = o.sdkRequests;
  const warmup = Math.min(500, Math.ceil(n / 5));
  const concurrencies = [...new Set([o.concurrency, 64])];
  const fake20 = await RemoteFakeProvider.start(LATENCIES_MS[1]);
  const fakes = new Map<number, RemoteFakeProvider>([
    [LATENCIES_MS[0]!, fake0],
    [LATENCIES_MS[1]!, fake20],
  ]);
  const urls = [...fakes.values()].map((f) => f.url);
  const children = new Map<ClientName, BenchChild>();
  const loads = new Map<ClientName, LoadFigures>();
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  const runs: string[] = [];
  try {
    for (const p of PROTOCOLS) {
      for (const name of [p.baton, p.sdk]) {
        const child = await BenchChild.start('sdk-client-process');
        children.set(name, child);
        loads.set(name, await ask<LoadFigures>(child, 'load', { name, urls }));
      }
    }
    let turn = 0;
    for (const latency of LATENCIES_MS) {
      for (const concurrency of concurrencies) {
        // Take turns going first (per configuration, for both protocols): a machine busy with other work should not favour one side.
        const batonFirst = turn++ % 2 === 0;
        for (const p of PROTOCOLS) {
          const fake = fakes.get(latency)!;
          const result = new Map<ClientName, RunFigures>();
          const order = batonFirst ? [p.baton, p.sdk] : [p.sdk, p.baton];
          for (const name of order) {
            await fake.reset();
            const r = await ask<RunFigures>(children.get(name)!, 'run', { url: fake.url, n, concurrency, warmup, tag: `${name}-${latency}-${concurrency}` });
            const seen = await fake.stats();
            result.set(name, r);
            runs.push(
              `${name} ${latency} ms x ${concurrency}: ${fmt(r.perSecond, 0)} req/s, failures ${r.failures}${r.firstFailure ? ` (${r.firstFailure})` : ''}, fake saw ${seen.total} (statuses ${JSON.stringify(seen.statuses)})`,
            );
          }
          const baton = result.get(p.baton)!;
          const sdk = result.get(p.sdk)!;
          rows.push({
            bench: 'sdk',
            metric: `${p.label}, fake answers after ${latency} ms, ${concurrency} in flight: req/s; p50 / p99 ms; client CPU ms/req; RSS delta MiB`,
            baton: figures(baton),
            baseline: figures(sdk),
            baselineName: `${p.sdkPackage} SDK, maxRetries 0`,
            target: '',
            verdict: '',
            note: `SDK/Baton: req/s ${fmt(sdk.perSecond / baton.perSecond, 2)}x, CPU ${fmt(sdk.cpuMsPerRequest / baton.cpuMsPerRequest, 2)}x${baton.failures + sdk.failures ? `; FAILURES ${baton.failures}/${sdk.failures}` : ''}`,
          });
        }
      }
    }
  } finally {
    await Promise.all([...children.values()].map((c) => c.stop()));
    await fake20.close();
  }

  const { keys, aborts } = await contractChecks();
  for (const p of PROTOCOLS) {
    const of = (client: ClientName, id: KeyCaseId) => keys.find((k) => k.client === client && k.id === id);
    const batonKeys = of(p.baton, 'own-loop');
    rows.push({
      bench: 'sdk',
      metric: `${p.label}: Idempotency-Key on attempt 1 / 2 (fake answers 503, then 200)`,
      baton: keysText(batonKeys),
      baseline: `key in headers: ${keysText(of(p.sdk, 'sdk-headers'))}; idempotencyKey option: ${keysText(of(p.sdk, 'sdk-option'))}; SDK's own retry: ${keysText(of(p.sdk, 'sdk-retries'))}`,
      baselineName: `${p.sdkPackage} SDK, our retry loop around it`,
      target: 'same key on every attempt',
      verdict: verdict(sameKeyEveryAttempt(batonKeys)),
    });
    rows.push({
      bench: 'sdk',
      metric: `${p.label}: abort mid-request (${20} times): ms to rejection p50 / max; ms until the provider sees the connection close p50 / max`,
      baton: abortText(aborts.find((a) => a.client === p.baton)),
      baseline: abortText(aborts.find((a) => a.client === p.sdk)),
      baselineName: `${p.sdkPackage} SDK`,
      target: 'ends at once (p50 < 1 ms)',
      verdict: verdict((aborts.find((a) => a.client === p.baton)?.rejectP50Ms ?? Infinity) < 1),
    });
  }
  for (const p of PROTOCOLS) {
    const sdkWeight = packageWeight(p.sdkPackage);
    rows.push({
      bench: 'sdk',
      metric: `${p.label}: client load time; RSS added by loading it; installed (runtime closure)`,
      baton: weightText(loads.get(p.baton)!, null),
      baseline: weightText(loads.get(p.sdk)!, sdkWeight),
      baselineName: `${p.sdkPackage} ${sdkWeight.version}`,
      target: '',
      verdict: '',
    });
  }

  notes.push(
    `${n} requests per client and configuration, after a warm-up of ${warmup} (not counted), each client in its own process (one process per client for the whole run, so its JIT is warm), the fake provider (testkit, real HTTP on loopback) in another: one answering at once, one after ${LATENCIES_MS[1]} ms. Body: a system prompt, user / assistant / user turns and one tool (attempt_completion), non-streaming; the fake answers with an attempt_completion tool call. Each client's call ends with the name of the first tool call, so both sides read the answer.`,
    "Baton's clients are the worker's OpenAiProvider and AnthropicProvider (node:http keep-alive agent, the answer parsed with zod, the shared retry loop with 1 attempt). The SDKs use global fetch (undici) with maxRetries 0 and the same 30 s timeout, the key and X-Baton-Session-Id passed as per-request headers; they do not validate the answer (Baton would have to, at its boundary, on top of the SDK's cost). The Anthropic body is the same toAnthropicRequest output for both (cache_control breakpoints included).",
    'Client CPU ms per request: process.cpuUsage() (user + system) of the client process over the measured requests / N. RSS delta: resident set after the measured requests minus before (after the warm-up), no forced GC. Load: dynamic import of the client module(s) and building the clients, in a fresh process.',
    'Idempotency-Key check: the fake (in the bench process) answers the first request of a session 503 and the next 200; attempts are grouped by X-Baton-Session-Id. Baton: maxAttempts 2; SDK with maxRetries 0: our loop calls it again after the 503 (as the worker would); SDK with maxRetries 1: its own retry. Abort check: the fake never answers; once the request arrived there, the AbortSignal fires (as on cancel or gate-lease loss).',
    ...runs.map((r) => `run: ${r}`),
  );
  return { name: 'sdk', title: 'Provider client: hand-written vs official SDKs', rows, notes };
}
