import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import type { ToolDefinition } from '../tool-types';
import { builtinTool, kib } from './define';
import { TailBuffer } from './tail-buffer';

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
export const DEFAULT_COMMAND_MAX_TIMEOUT_MS = 600_000;
/** Between SIGTERM to the process group and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** Of each of stdout and stderr, the end is kept. */
export const COMMAND_OUTPUT_TAIL_BYTES = 64 * 1024;
/** PATH of commands unless EXECUTE_COMMAND_PATH says otherwise. */
export const DEFAULT_COMMAND_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecuteCommandOptions {
  /** Highest timeout_ms a call may ask for (EXECUTE_COMMAND_MAX_TIMEOUT_MS). */
  maxTimeoutMs?: number;
  /** PATH given to commands (EXECUTE_COMMAND_PATH). */
  path?: string;
  /** Overrides KILL_GRACE_MS (tests). */
  killGraceMs?: number;
}

/**
 * The whole environment of a command. Nothing of the worker's own
 * environment is passed on (LLM_API_KEY, REDIS_URL, cloud credentials...):
 * a command the model writes must not be able to read or leak them.
 */
export function commandEnv(cwd: string, home: string, path: string): Record<string, string> {
  return {
    PATH: path,
    HOME: home,
    PWD: cwd,
    SHELL: '/bin/sh',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TERM: 'dumb',
    TMPDIR: '/tmp',
    // Tools that page or colour their output would hang or garble it.
    PAGER: 'cat',
    GIT_PAGER: 'cat',
    NO_COLOR: '1',
    CI: '1',
  };
}

const ExecuteCommandArgs = z.strictObject({
  command: z.string().min(1).describe('Shell command line, run with /bin/sh -c (POSIX sh, not bash)'),
  cwd: z.string().optional().describe('Folder to run it in, relative to the workspace folder (default: the workspace folder)'),
  timeout_ms: z.number().int().min(1).optional().describe(`Kill the command after this many milliseconds (default ${DEFAULT_COMMAND_TIMEOUT_MS})`),
});

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: TailBuffer;
  stderr: TailBuffer;
}

/** Sends `sig` to the process group `pid` leads; false when it is gone. */
function killGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs `/bin/sh -c command` as the leader of a new process group
 * (`detached`), so that the shell and everything it starts can be killed
 * together: SIGTERM to the group, SIGKILL after `graceMs`. That happens on
 * timeout, when `signal` aborts (task cancelled, runner fenced out), and when
 * the shell exits while background children still run (a command is one
 * shot; nothing it started outlives the call). A worker that is SIGKILLed
 * itself cannot do this: the group then runs on until it ends by itself.
 */
export function runCommand(
  command: string,
  options: { cwd: string; env: Record<string, string>; timeoutMs: number; graceMs: number; signal: AbortSignal },
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const stdout = new TailBuffer(COMMAND_OUTPUT_TAIL_BYTES);
    const stderr = new TailBuffer(COMMAND_OUTPUT_TAIL_BYTES);
    let child;
    try {
      child = spawn('/bin/sh', ['-c', command], { cwd: options.cwd, env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      reject(err as Error);
      return;
    }
    const pid = child.pid;
    let timedOut = false;
    let graceTimer: NodeJS.Timeout | undefined;
    const terminate = () => {
      if (pid === undefined || graceTimer) return;
      killGroup(pid, 'SIGTERM');
      graceTimer = setTimeout(() => killGroup(pid, 'SIGKILL'), options.graceMs);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      terminate();
    }, options.timeoutMs);
    const onAbort = () => terminate();
    options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.signal.aborted) terminate();

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, sig) => {
      exit = { code, signal: sig };
      // Background children left by the shell go with it (and release the pipes).
      if (pid !== undefined) killGroup(pid, 'SIGKILL');
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      clearTimeout(graceTimer);
      options.signal.removeEventListener('abort', onAbort);
      const ended = exit ?? { code, signal: sig };
      resolve({ code: ended.code, signal: ended.signal, timedOut, stdout, stderr });
    });
  });
}

function section(name: string, tail: TailBuffer): string {
  if (tail.total === 0) return `${name}: (empty)`;
  const cut = tail.total - tail.kept;
  const head = cut > 0 ? `${name} (last ${kib(tail.kept)} of ${kib(tail.total)}; the first ${kib(cut)} were cut):` : `${name}:`;
  return `${head}\n${tail.text()}`;
}

/** `execute_command`, with its limits from the worker's configuration. */
export function executeCommandTool(options: ExecuteCommandOptions = {}): ToolDefinition {
  const maxTimeoutMs = options.maxTimeoutMs ?? DEFAULT_COMMAND_MAX_TIMEOUT_MS;
  const path = options.path ?? DEFAULT_COMMAND_PATH;
  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;
  return builtinTool({
    name: 'execute_command',
    group: 'command',
    description:
      'Run a shell command (/bin/sh -c) in the workspace folder or a folder inside it. Returns the exit code, stdout and stderr ' +
      `(the last ${COMMAND_OUTPUT_TAIL_BYTES / 1024} KiB of each). No input can be given (stdin is closed), the environment is minimal ` +
      `(no credentials), and the command is killed with everything it started after timeout_ms (default ${DEFAULT_COMMAND_TIMEOUT_MS} ms, ` +
      `at most ${maxTimeoutMs} ms). Background processes do not outlive the command.`,
    schema: ExecuteCommandArgs,
    async handler({ command, cwd, timeout_ms }, { workspace, signal }) {
      const home = await workspace.ensure();
      const dir = await workspace.resolve(cwd ?? '.');
      const info = await stat(dir).catch(() => undefined);
      if (!info?.isDirectory()) throw new Error(`cwd ${JSON.stringify(cwd)} is not a folder of the workspace`);
      const asked = timeout_ms ?? Math.min(DEFAULT_COMMAND_TIMEOUT_MS, maxTimeoutMs);
      const timeoutMs = Math.min(asked, maxTimeoutMs);
      signal.throwIfAborted();
      const result = await runCommand(command, { cwd: dir, env: commandEnv(dir, home, path), timeoutMs, graceMs, signal });
      // Cancelled: the group is dead; the task does not go on, so there is no result to report.
      signal.throwIfAborted();
      const status = result.timedOut
        ? `timed out after ${timeoutMs} ms: killed${result.signal ? ` by ${result.signal}` : ''}`
        : result.signal
          ? `killed by ${result.signal}`
          : `exit code ${result.code}`;
      const clamp = asked > timeoutMs ? ` (timeout_ms ${asked} lowered to the maximum, ${maxTimeoutMs})` : '';
      return `${status}${clamp}\n${section('stdout', result.stdout)}\n${section('stderr', result.stderr)}`;
    },
  });
}
