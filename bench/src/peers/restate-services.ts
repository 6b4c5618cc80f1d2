/**
 * The Restate side of the peer bench: the services a user would write to get
 * Baton's sessions on Restate, served by @restatedev/restate-sdk over HTTP/2
 * cleartext on a local port (in this process, like Baton's in-process worker).
 *
 * - `BenchSession` (virtual object, one per session key: Restate runs one
 *   exclusive handler per key at a time, its counterpart of a session lane):
 *   `turn` = one model call inside `ctx.run` (journaled, not repeated on
 *   replay); `orchestrate` = a parent: model call, then for each subtask an
 *   awaited call to the `BenchSubtask` service, then the next model call, like
 *   Baton's orchestrator with `steps` subtasks (steps + 1 parent turns).
 * - `BenchSubtask` (service): one model call inside `ctx.run`, returns its text.
 *
 * The model call is the plain baseline's (plain-call.ts) against the fake
 * provider. Hooks report the timestamps the bench measures.
 */
import { createServer, type Http2Server, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import * as restate from '@restatedev/restate-sdk';

export interface RestateHooks {
  /** The provider call (idempotency key stable across retries of the same step). */
  model(sessionId: string, idempotencyKey: string, prompt: string): Promise<string>;
  /** A subtask's model call is journaled and its handler is about to return (the earliest "child finished" the SDK shows). */
  childDone(parentKey: string, step: number): void;
  /** A parent turn's model call starts (inside `ctx.run`, so not on replay). */
  parentTurnStarted(key: string, step: number): void;
}

export interface SubtaskInput {
  parent: string;
  step: number;
  prompt: string;
}

export function restateServices(hooks: RestateHooks) {
  const subtask = restate.service({
    name: 'BenchSubtask',
    handlers: {
      run: async (ctx: restate.Context, input: SubtaskInput): Promise<string> => {
        const out = await ctx.run('model', () => hooks.model(`${input.parent}/c${input.step}`, `${input.parent}:c${input.step}`, input.prompt));
        hooks.childDone(input.parent, input.step);
        return out;
      },
    },
  });
  const session = restate.object({
    name: 'BenchSession',
    handlers: {
      turn: async (ctx: restate.ObjectContext, prompt: string): Promise<string> => ctx.run('model', () => hooks.model(ctx.key, `${ctx.key}:1`, prompt)),
      orchestrate: async (ctx: restate.ObjectContext, steps: number): Promise<string> => {
        let last = '';
        for (let step = 0; step <= steps; step++) {
          last = await ctx.run('model', () => {
            hooks.parentTurnStarted(ctx.key, step);
            return hooks.model(ctx.key, `${ctx.key}:${step}`, step === 0 ? `orchestrate steps=${steps}` : `subtask ${step - 1} done`);
          });
          if (step < steps) await ctx.serviceClient(subtask).run({ parent: ctx.key, step, prompt: `subtask ${step}` });
        }
        return last;
      },
    },
  });
  return [session, subtask];
}

/** The endpoint's HTTP/2 server on a free local port; `close` ends open sessions (the Restate server keeps them alive). */
export class RestateEndpoint {
  private readonly sessions = new Set<ServerHttp2Session>();

  private constructor(private readonly server: Http2Server) {
    server.on('session', (s) => {
      this.sessions.add(s);
      s.once('close', () => this.sessions.delete(s));
    });
  }

  static async start(hooks: RestateHooks): Promise<RestateEndpoint> {
    // Only errors (the SDK logs every invocation at info); RestateLogLevel is a type-only enum in the CJS build.
    const quiet: restate.LoggerTransport = (meta, message, ...rest) => {
      if (meta.level === ('error' as restate.RestateLogLevel)) process.stderr.write(`restate endpoint: ${String(message)} ${rest.map(String).join(' ')}\n`);
    };
    const server = createServer(restate.createEndpointHandler({ services: restateServices(hooks), logger: quiet }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new RestateEndpoint(server);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
