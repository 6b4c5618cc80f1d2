import { parseArgs } from 'node:util';
import { IdSchema, ON_BUSY, type OnBusy } from '../schemas';

/** A command line the CLI cannot run; printed with a pointer to `baton help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export type Command =
  | { name: 'help' }
  | { name: 'version' }
  | { name: 'submit'; sessionId: string; prompt: string; mode?: string; idempotencyKey?: string; onBusy?: OnBusy; metadata?: unknown; watch: boolean }
  | { name: 'watch'; taskId: string }
  | { name: 'cancel'; taskId: string }
  | { name: 'task'; taskId: string }
  | { name: 'tree'; taskId: string }
  | { name: 'messages'; taskId: string }
  | { name: 'session'; sessionId: string }
  | { name: 'pause'; sessionId: string }
  | { name: 'resume'; sessionId: string }
  | { name: 'export'; taskId: string; out?: string }
  | { name: 'delete'; taskId: string }
  | { name: 'delete-session'; sessionId: string; waitSeconds: number }
  | { name: 'files-put'; sessionId: string; paths: string[] }
  | { name: 'files-ls'; sessionId: string; json: boolean }
  | { name: 'files-get'; sessionId: string; path: string; out?: string }
  | { name: 'answer'; taskId: string; text: string; idempotencyKey?: string }
  | { name: 'approve' | 'deny'; taskId: string; feedback?: string; idempotencyKey?: string }
  | { name: 'usage'; from: string; to: string; json: boolean };

/** How long `delete-session` waits for a session that is still stopping, by default. */
export const DEFAULT_DELETE_WAIT_SECONDS = 30;

export const USAGE = `Usage: baton <command> [arguments]

Commands:
  submit <session> "<prompt>" [--mode m] [--idempotency-key k]
         [--on-busy enqueue|reject|interrupt] [--metadata json] [--watch]
                          submit a root task to a session; prints the task (JSON)
  watch <task>            show the task tree live until it ends; prints the result
                          (exit 0 when completed, 1 when failed or cancelled)
  cancel <task>           cancel a task and all its descendants; prints the task
  task <task>             print a task
  tree <task>             print a task with its descendants
  messages <task>         print a task's conversation
  session <session>       print a session (with its usage and cost)
  usage [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--json]
                          your tenant's tokens, turns and cost by UTC day
                          (default: the last 7 days through today)
  pause <session>         pause a session (running tasks park at their next turn)
  resume <session>        resume a paused session
  export <task> [--out file]
                          export the task's tree, every conversation and the events
                          as one JSON document (stdout, or the file)
  delete <task>           delete a finished root task and its whole tree
  delete-session <session> [--wait seconds]
                          cancel whatever runs in the session, then delete all its data;
                          waits up to --wait seconds (default ${DEFAULT_DELETE_WAIT_SECONDS}) while it is
                          still stopping (exit 4 if it still is)
  files put <session> <folder | file...>
                          seed the session's workspace: a folder is sent as a tar.gz of its
                          contents, files as JSON entries (at their relative path, else their name)
  files ls <session> [--json]
                          list the session's workspace
  files get <session> <path> [--out file]
                          print a workspace file (raw bytes) or write it to a file; a folder is listed
  answer <task> "<text>" [--idempotency-key k]
                          answer the question a task awaiting input asked
  approve <task> [--feedback text] [--idempotency-key k]
  deny <task> [--feedback text] [--idempotency-key k]
                          approve or deny the tool call a task awaiting input wants to run
  help                    show this help

  With --watch (submit) and watch, a task awaiting input is asked about on the terminal
  (a question with numbered suggestions, or an approval y/n with optional feedback); when
  stdin is not a terminal, the command to run is printed instead.

Environment:
  BATON_URL       API base URL (default http://127.0.0.1:3000)
  BATON_API_KEY   tenant secret, sent as "Authorization: Bearer <key>"

Exit codes: 0 ok, 1 task failed or cancelled (watch), 2 usage error, 3 API or connection error,
4 session still stopping (delete-session).
`;

const TASK_COMMANDS = ['watch', 'cancel', 'task', 'tree', 'messages'] as const;
const SESSION_COMMANDS = ['session', 'pause', 'resume'] as const;

/** Parses argv (without `node` and the script) into a command, or throws UsageError. */
export function parseCommand(argv: readonly string[]): Command {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') return { name: 'help' };
  if (name === 'version' || name === '--version' || name === '-v') return { name: 'version' };
  if (name === 'submit') return parseSubmit(rest);
  if (name === 'export') return parseExport(rest);
  if (name === 'delete-session') return parseDeleteSession(rest);
  if (name === 'files') return parseFiles(rest);
  if (name === 'usage') return parseUsage(rest);
  if (name === 'answer') return parseAnswer(rest);
  if (name === 'approve' || name === 'deny') return parseApproval(name, rest);
  if (name === 'delete') {
    const [taskId] = positionals(name, rest, ['task']);
    return { name, taskId: id('task', taskId!) };
  }
  if ((TASK_COMMANDS as readonly string[]).includes(name)) {
    const [taskId] = positionals(name, rest, ['task']);
    return { name: name as (typeof TASK_COMMANDS)[number], taskId: id('task', taskId!) };
  }
  if ((SESSION_COMMANDS as readonly string[]).includes(name)) {
    const [sessionId] = positionals(name, rest, ['session']);
    return { name: name as (typeof SESSION_COMMANDS)[number], sessionId: id('session', sessionId!) };
  }
  throw new UsageError(`unknown command '${name}'`);
}

function parseSubmit(args: string[]): Command {
  const { values, positionals: pos } = parse('submit', args, {
    mode: { type: 'string', short: 'm' },
    'idempotency-key': { type: 'string', short: 'k' },
    'on-busy': { type: 'string' },
    metadata: { type: 'string' },
    watch: { type: 'boolean', short: 'w', default: false },
  });
  const [sessionId, prompt] = expect('submit', pos, ['session', 'prompt']);
  if (prompt!.length === 0) throw new UsageError('submit: the prompt is empty');
  const command: Extract<Command, { name: 'submit' }> = { name: 'submit', sessionId: id('session', sessionId!), prompt: prompt!, watch: values.watch === true };
  if (values.mode !== undefined) {
    if (values.mode.length === 0) throw new UsageError('submit: --mode is empty');
    command.mode = values.mode;
  }
  if (values['idempotency-key'] !== undefined) {
    if (values['idempotency-key'].length === 0) throw new UsageError('submit: --idempotency-key is empty');
    command.idempotencyKey = values['idempotency-key'];
  }
  if (values['on-busy'] !== undefined) {
    const onBusy = values['on-busy'];
    if (!(ON_BUSY as readonly string[]).includes(onBusy)) throw new UsageError(`submit: --on-busy must be one of ${ON_BUSY.join(', ')}, got '${onBusy}'`);
    command.onBusy = onBusy as OnBusy;
  }
  if (values.metadata !== undefined) {
    try {
      command.metadata = JSON.parse(values.metadata);
    } catch {
      throw new UsageError('submit: --metadata must be JSON');
    }
  }
  return command;
}

function parseExport(args: string[]): Command {
  const { values, positionals: pos } = parse('export', args, { out: { type: 'string', short: 'o' } });
  const [taskId] = expect('export', pos, ['task']);
  const command: Extract<Command, { name: 'export' }> = { name: 'export', taskId: id('task', taskId!) };
  if (values.out !== undefined) {
    if (values.out.length === 0) throw new UsageError('export: --out is empty');
    command.out = values.out;
  }
  return command;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function parseUsage(args: string[]): Command {
  const { values } = parse('usage', args, { from: { type: 'string' }, to: { type: 'string' }, json: { type: 'boolean', default: false } });
  const to = values.to ?? utcDay(Date.now());
  const from = values.from ?? utcDay(Date.parse(`${to}T00:00:00Z`) - 6 * 86_400_000);
  for (const [flag, day] of [
    ['--from', from],
    ['--to', to],
  ] as const) {
    if (!DAY.test(day)) throw new UsageError(`usage: ${flag} must be a UTC day like 2026-01-31, got '${day}'`);
  }
  return { name: 'usage', from, to, json: values.json === true };
}

function parseDeleteSession(args: string[]): Command {
  const { values, positionals: pos } = parse('delete-session', args, { wait: { type: 'string' } });
  const [sessionId] = expect('delete-session', pos, ['session']);
  let waitSeconds = DEFAULT_DELETE_WAIT_SECONDS;
  if (values.wait !== undefined) {
    waitSeconds = Number(values.wait);
    if (values.wait.trim() === '' || !Number.isFinite(waitSeconds) || waitSeconds < 0 || waitSeconds > 3600) {
      throw new UsageError(`delete-session: --wait must be a number of seconds from 0 to 3600, got '${values.wait}'`);
    }
  }
  return { name: 'delete-session', sessionId: id('session', sessionId!), waitSeconds };
}

function parseFiles(args: string[]): Command {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'put': {
      const { positionals: pos } = parse('files put', rest, {});
      if (pos.length < 2)
        throw new UsageError(`files put: missing <${pos.length === 0 ? 'session' : 'folder | file...'}> (usage: baton files put <session> <folder | file...>)`);
      const [sessionId, ...paths] = pos;
      return { name: 'files-put', sessionId: id('session', sessionId!), paths };
    }
    case 'ls': {
      const { values, positionals: pos } = parse('files ls', rest, { json: { type: 'boolean', default: false } });
      const [sessionId] = expect('files ls', pos, ['session']);
      return { name: 'files-ls', sessionId: id('session', sessionId!), json: values.json === true };
    }
    case 'get': {
      const { values, positionals: pos } = parse('files get', rest, { out: { type: 'string', short: 'o' } });
      const [sessionId, path] = expect('files get', pos, ['session', 'path']);
      const command: Extract<Command, { name: 'files-get' }> = { name: 'files-get', sessionId: id('session', sessionId!), path: path! };
      if (values.out !== undefined) {
        if (values.out.length === 0) throw new UsageError('files get: --out is empty');
        command.out = values.out;
      }
      return command;
    }
    default:
      throw new UsageError(sub === undefined ? 'files: missing subcommand (put, ls, get)' : `files: unknown subcommand '${sub}' (put, ls, get)`);
  }
}

function parseAnswer(args: string[]): Command {
  const { values, positionals: pos } = parse('answer', args, { 'idempotency-key': { type: 'string', short: 'k' } });
  const [taskId, text] = expect('answer', pos, ['task', 'text']);
  if (text!.length === 0) throw new UsageError('answer: the text is empty');
  const command: Extract<Command, { name: 'answer' }> = { name: 'answer', taskId: id('task', taskId!), text: text! };
  if (values['idempotency-key'] !== undefined) command.idempotencyKey = nonEmpty('answer', '--idempotency-key', values['idempotency-key']);
  return command;
}

function parseApproval(name: 'approve' | 'deny', args: string[]): Command {
  const { values, positionals: pos } = parse(name, args, { feedback: { type: 'string', short: 'f' }, 'idempotency-key': { type: 'string', short: 'k' } });
  const [taskId] = expect(name, pos, ['task']);
  const command: Extract<Command, { name: 'approve' | 'deny' }> = { name, taskId: id('task', taskId!) };
  if (values.feedback !== undefined) command.feedback = nonEmpty(name, '--feedback', values.feedback);
  if (values['idempotency-key'] !== undefined) command.idempotencyKey = nonEmpty(name, '--idempotency-key', values['idempotency-key']);
  return command;
}

function nonEmpty(command: string, option: string, value: string): string {
  if (value.length === 0) throw new UsageError(`${command}: ${option} is empty`);
  return value;
}

function positionals(command: string, args: string[], names: string[]): string[] {
  return expect(command, parse(command, args, {}).positionals, names);
}

function expect(command: string, got: string[], names: string[]): string[] {
  const usage = `${command} ${names.map((n) => `<${n}>`).join(' ')}`;
  if (got.length < names.length) throw new UsageError(`${command}: missing <${names[got.length]}> (usage: baton ${usage})`);
  if (got.length > names.length) {
    const hint = command === 'submit' ? ' (quote the prompt: baton submit <session> "<prompt>")' : '';
    throw new UsageError(`${command}: unexpected argument '${got[names.length]}'${hint}`);
  }
  return got;
}

type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; default?: boolean }>;

function parse<O extends OptionSpec>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // node's messages are good ("Unknown option '--foo'"); prefix the command.
    throw new UsageError(`${command}: ${(err as Error).message.replace(/\. To specify a positional argument.*$/s, '')}`);
  }
}

function id(what: 'task' | 'session', value: string): string {
  const parsed = IdSchema.safeParse(value);
  if (!parsed.success) throw new UsageError(`invalid ${what} id '${value}': ids are 1 to 128 of A-Z a-z 0-9 . _ -`);
  return value;
}
