import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { BatonClient } from '../baton-client';
import { BatonApiError, BatonConnectionError, BatonProtocolError } from '../errors';
import type { SessionDeletion, Task, TaskTree, TenantUsage, TreeExport } from '../schemas';
import { parseCommand, USAGE, UsageError, type Command } from './args';
import { formatDuration, elapsed } from './tree-view';
import { getFile, formatListing, putFiles } from './files-command';
import { InputPrompter, type Input } from './input-prompt';
import { LivePrinter } from './live-printer';
import { watchTask } from './watch';
import { PlainView, TtyView, type Output, type WatchView } from './watch-view';

export const DEFAULT_URL = 'http://127.0.0.1:3000';

export const ExitCode = { ok: 0, taskNotCompleted: 1, usage: 2, api: 3, stillStopping: 4 } as const;

export interface CliIo {
  /** Results (JSON, the final result text). */
  stdout: Output;
  /** Progress (the live tree), notes and errors. */
  stderr: Output & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Answers to a watched task's questions and approvals (prompted only when it is a TTY). */
  stdin?: Input;
}

/** Runs one CLI command; returns the exit code (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`baton: ${err.message}\nRun 'baton help' for usage.\n`);
    return ExitCode.usage;
  }
  if (command.name === 'help') {
    io.stdout.write(USAGE);
    return ExitCode.ok;
  }
  if (command.name === 'version') {
    io.stdout.write(`${version()}\n`);
    return ExitCode.ok;
  }

  let client: BatonClient;
  const baseUrl = io.env.BATON_URL || DEFAULT_URL;
  try {
    client = new BatonClient({ baseUrl, apiKey: io.env.BATON_API_KEY });
  } catch {
    io.stderr.write(`baton: BATON_URL is not an http(s) URL: '${baseUrl}'\n`);
    return ExitCode.usage;
  }

  try {
    return await execute(client, command, io);
  } catch (err) {
    // Found while running (a local path of `files put` that does not exist): still a usage error.
    if (err instanceof UsageError) {
      io.stderr.write(`baton: ${err.message}\n`);
      return ExitCode.usage;
    }
    io.stderr.write(`baton: ${describe(err)}\n`);
    return ExitCode.api;
  }
}

async function execute(client: BatonClient, command: Exclude<Command, { name: 'help' | 'version' }>, io: CliIo): Promise<number> {
  const opts = { signal: io.signal };
  const json = (value: unknown) => io.stdout.write(JSON.stringify(value, null, 2) + '\n');
  switch (command.name) {
    case 'submit': {
      const { task, replayed } = await client.submit(
        command.sessionId,
        { prompt: command.prompt, mode: command.mode, onBusy: command.onBusy, metadata: command.metadata, idempotencyKey: command.idempotencyKey },
        opts,
      );
      if (replayed) io.stderr.write(`baton: idempotent replay: task ${task.id} was already submitted with this key\n`);
      if (!command.watch) {
        json(task);
        return ExitCode.ok;
      }
      io.stderr.write(`submitted ${task.id} to session ${task.sessionId}\n`);
      return watch(client, task.id, io);
    }
    case 'watch':
      return watch(client, command.taskId, io);
    case 'cancel':
      json(await client.cancel(command.taskId, opts));
      return ExitCode.ok;
    case 'task':
      json(await client.getTask(command.taskId, opts));
      return ExitCode.ok;
    case 'tree':
      json(await client.getTree(command.taskId, opts));
      return ExitCode.ok;
    case 'messages':
      json({ messages: await client.getMessages(command.taskId, opts) });
      return ExitCode.ok;
    case 'session':
      json(await client.getSession(command.sessionId, opts));
      return ExitCode.ok;
    case 'usage': {
      const usage = await client.getUsage(command.from, command.to, opts);
      if (command.json) json(usage);
      else io.stdout.write(usageTable(usage));
      return ExitCode.ok;
    }
    case 'pause':
      json(await client.pause(command.sessionId, opts));
      return ExitCode.ok;
    case 'resume':
      json(await client.resume(command.sessionId, opts));
      return ExitCode.ok;
    case 'export': {
      const doc = await client.exportTask(command.taskId, opts);
      const text = JSON.stringify(doc, null, 2) + '\n';
      if (command.out === undefined) io.stdout.write(text);
      else {
        writeFileSync(command.out, text);
        io.stderr.write(`exported ${command.taskId} to ${command.out}: ${exportSummary(doc)}\n`);
      }
      return ExitCode.ok;
    }
    case 'delete':
      await client.deleteTask(command.taskId, opts);
      json({ taskId: command.taskId, state: 'deleted' });
      return ExitCode.ok;
    case 'delete-session': {
      const outcome = await deleteSession(client, command.sessionId, command.waitSeconds * 1000, io);
      json(outcome);
      return outcome.state === 'deleted' ? ExitCode.ok : ExitCode.stillStopping;
    }
    case 'files-put': {
      const uploaded = await putFiles(client, command.sessionId, command.paths, io.stderr, io.signal);
      json(uploaded);
      return ExitCode.ok;
    }
    case 'files-ls': {
      const listing = await client.listFiles(command.sessionId, opts);
      if (command.json) json(listing);
      else io.stdout.write(formatListing(listing));
      return ExitCode.ok;
    }
    case 'files-get':
      await getFile(client, command.sessionId, command.path, command.out, io, io.signal);
      return ExitCode.ok;
    case 'answer':
      json(await client.answer(command.taskId, command.text, { ...opts, ...(command.idempotencyKey ? { idempotencyKey: command.idempotencyKey } : {}) }));
      return ExitCode.ok;
    case 'approve':
    case 'deny': {
      const options = {
        ...opts,
        ...(command.idempotencyKey ? { idempotencyKey: command.idempotencyKey } : {}),
        ...(command.feedback !== undefined ? { feedback: command.feedback } : {}),
      };
      json(command.name === 'approve' ? await client.approve(command.taskId, options) : await client.deny(command.taskId, options));
      return ExitCode.ok;
    }
    default:
      return assertNever(command);
  }
}

/**
 * DELETE the session, then, while it answers 202 (a worker still holds one of
 * its tasks), repeat the DELETE with a growing pause until it is gone (204, or
 * 404: our earlier request finished it) or `waitMs` ran out.
 */
async function deleteSession(client: BatonClient, sessionId: string, waitMs: number, io: CliIo): Promise<SessionDeletion> {
  const deadline = Date.now() + waitMs;
  let outcome = await client.deleteSession(sessionId, { signal: io.signal });
  let pauseMs = 100;
  while (outcome.state === 'stopping') {
    const left = deadline - Date.now();
    if (left <= 0) {
      io.stderr.write(`baton: session ${sessionId} is still stopping after ${formatDuration(waitMs)}; it is deleted once its running task stops\n`);
      return outcome;
    }
    await sleep(Math.min(pauseMs, left), undefined, { signal: io.signal });
    pauseMs = Math.min(pauseMs * 2, 2000);
    try {
      outcome = await client.deleteSession(sessionId, { signal: io.signal });
    } catch (err) {
      if (err instanceof BatonApiError && err.status === 404) return { sessionId, state: 'deleted' };
      throw err;
    }
  }
  return outcome;
}

function exportSummary(doc: TreeExport): string {
  const count = (t: TaskTree): number => 1 + t.children.reduce((n, c) => n + count(c), 0);
  const tasks = count(doc.root);
  const messages = Object.values(doc.conversations).reduce((n, m) => n + m.length, 0);
  return `${tasks} task(s), ${messages} message(s), ${doc.events.length} event(s)`;
}

/** Live tree on stderr (redrawn on a TTY, change lines otherwise); the result on stdout. */
async function watch(client: BatonClient, taskId: string, io: CliIo): Promise<number> {
  const view: WatchView = io.stderr.isTTY ? new TtyView(io.stderr, { color: !io.env.NO_COLOR }) : new PlainView(io.stderr);
  const prompter = new InputPrompter(client, io, () => view.release?.());
  // Streamed tokens on stdout, live; the tree view draws afresh below each live line.
  const live = new LivePrinter(io.stdout, () => view.release?.());
  const tree = await watchTask(client, taskId, view, { signal: io.signal, onAwaitingInput: (node) => prompter.handle(node), live });
  io.stderr.write(summary(tree) + '\n');
  if (tree.status === 'completed') {
    io.stdout.write((tree.result ?? '') + '\n');
    return ExitCode.ok;
  }
  return ExitCode.taskNotCompleted;
}

/** `baton usage`: one line a day, then the total. */
export function usageTable(u: TenantUsage): string {
  const usd = (c: number | null, unpriced: number) => (c === null ? 'unpriced' : `$${c.toFixed(4)}${unpriced ? ` (+${unpriced} unpriced turns)` : ''}`);
  const row = (label: string, x: { usage: TenantUsage['total']['usage']; cost: number | null }) =>
    `${label.padEnd(10)}  ${String(x.usage.turns).padStart(6)}  ${String(x.usage.inputTokens).padStart(12)}  ${String(x.usage.cachedTokens).padStart(10)}  ${String(x.usage.outputTokens).padStart(10)}  ${usd(x.cost, x.usage.unpricedTurns)}\n`;
  const header = `${'day'.padEnd(10)}  ${'turns'.padStart(6)}  ${'input'.padStart(12)}  ${'cached'.padStart(10)}  ${'output'.padStart(10)}  cost\n`;
  return header + u.days.map((d) => row(d.day, d)).join('') + row('total', u.total);
}

export function summary(task: Task | TaskTree): string {
  const took = formatDuration(elapsed(task, Date.now()));
  switch (task.status) {
    case 'completed':
      return `${task.id} completed in ${took}`;
    case 'failed':
      return `${task.id} failed after ${took}: ${task.error ? `${task.error.code}: ${task.error.message}` : 'no error recorded'}`;
    case 'cancelled':
      return `${task.id} cancelled after ${took}`;
    default:
      return `${task.id} ${task.status}`;
  }
}

function describe(err: unknown): string {
  if (err instanceof BatonApiError) {
    const p = err.problem;
    return `${p.status} ${p.title}${p.detail ? `: ${p.detail}` : ''}${p.type && p.type !== 'about:blank' ? ` (${p.type})` : ''}`;
  }
  if (err instanceof BatonConnectionError || err instanceof BatonProtocolError) return err.message;
  if (err instanceof Error) return err.name === 'AbortError' ? 'interrupted' : err.message;
  return String(err);
}

function version(): string {
  // dist/cli/run-cli.js (and src/cli/run-cli.ts) -> ../../package.json
  return (JSON.parse(readFileSync(join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
}

function assertNever(value: never): never {
  throw new Error(`unhandled command ${JSON.stringify(value)}`);
}
