import { createInterface } from 'node:readline/promises';
import type { BatonClient } from '../baton-client';
import { BatonApiError } from '../errors';
import type { PendingInput, TaskTree } from '../schemas';
import type { Output } from './watch-view';

export interface Input extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

/** How much of a tool call's arguments a prompt shows. */
const ARGS_SHOWN = 800;

/**
 * The human in the loop at the terminal, for `watch`: each time a task of the
 * watched tree is `awaiting_input` with a request not seen before, asks the
 * user (a question with numbered suggestions, or y/n for an approval plus
 * optional feedback) and posts the response. Without a terminal on stdin it
 * prints the command that answers instead, once per request.
 *
 * The answer is sent with an Idempotency-Key derived from the request, so a
 * retry after a dropped connection cannot answer twice; an answer that lost
 * the race (someone answered from the console) is reported, not an error.
 */
export class InputPrompter {
  private readonly seen = new Set<string>();

  constructor(
    private readonly client: BatonClient,
    private readonly io: { stdin?: Input; stderr: Output; signal?: AbortSignal },
    /** Called before prompting: the view stops redrawing over the prompt. */
    private readonly beforePrompt: () => void = () => undefined,
  ) {}

  get interactive(): boolean {
    return this.io.stdin?.isTTY === true;
  }

  /** Returns true when it posted a response (the tree changes). */
  async handle(node: TaskTree): Promise<boolean> {
    const pending = node.pendingInput ?? (await this.client.getTask(node.id, this.opts())).pendingInput;
    if (!pending) return false;
    const key = `${node.id}:${pending.askedAt ?? JSON.stringify(pending)}`;
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    const err = this.io.stderr;
    this.beforePrompt();
    err.write(`\n${describe(node.id, pending)}`);
    if (!this.interactive) {
      err.write(howToRespond(node.id, pending));
      return false;
    }
    const response = await this.ask(pending);
    if (response === null) {
      err.write(`skipped; respond later with:\n${howToRespond(node.id, pending)}`);
      return false;
    }
    const idempotencyKey = `cli-${node.id}-${(pending.askedAt ?? '').replace(/[^\x21-\x7e]/g, '')}`.slice(0, 255);
    try {
      if (response.kind === 'answer') await this.client.answer(node.id, response.text, { idempotencyKey, ...this.opts() });
      else if (response.approved) await this.client.approve(node.id, { idempotencyKey, ...this.opts(), ...feedback(response.feedback) });
      else await this.client.deny(node.id, { idempotencyKey, ...this.opts(), ...feedback(response.feedback) });
      err.write(response.kind === 'answer' ? 'answer sent\n' : response.approved ? 'approved\n' : 'denied\n');
    } catch (e) {
      if (e instanceof BatonApiError && e.status === 409) {
        err.write(`not sent: ${e.problem.detail ?? 'the task no longer waits for this input'}\n`);
        return true;
      }
      throw e;
    }
    return true;
  }

  private async ask(pending: PendingInput): Promise<{ kind: 'answer'; text: string } | { kind: 'approval'; approved: boolean; feedback: string } | null> {
    // Lines are read from the interface's iterator, which queues them: an answer typed (or pasted) ahead,
    // such as "n" and its feedback in one go, is not lost between two questions.
    const rl = createInterface({ input: this.io.stdin!, terminal: false });
    const lines = rl[Symbol.asyncIterator]();
    const signal = this.io.signal;
    const question = async (q: string): Promise<string> => {
      this.io.stderr.write(q);
      signal?.throwIfAborted();
      let onAbort: () => void = () => undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      try {
        const next = await Promise.race([lines.next(), aborted]);
        return next.done ? '' : next.value; // stdin closed: skip
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    };
    try {
      if (pending.kind === 'question') {
        const raw = (await question(pending.followUp.length ? 'answer (a number picks a suggestion; empty skips): ' : 'answer (empty skips): ')).trim();
        if (raw === '') return null;
        const pick = /^\d+$/.test(raw) ? pending.followUp[Number(raw) - 1] : undefined;
        return { kind: 'answer', text: pick ?? raw };
      }
      for (;;) {
        const yn = (await question('approve? [y/n, empty skips]: ')).trim().toLowerCase();
        if (yn === '') return null;
        if (['y', 'yes', 'n', 'no'].includes(yn)) {
          const text = (await question('feedback for the model (optional): ')).trim();
          return { kind: 'approval', approved: yn.startsWith('y'), feedback: text };
        }
        this.io.stderr.write('please answer y or n\n');
      }
    } finally {
      rl.close();
    }
  }

  private opts(): { signal?: AbortSignal } {
    return this.io.signal ? { signal: this.io.signal } : {};
  }
}

function feedback(text: string): { feedback?: string } {
  return text ? { feedback: text } : {};
}

export function describe(taskId: string, pending: PendingInput): string {
  if (pending.kind === 'question') {
    const suggestions = pending.followUp.map((s, i) => `  ${i + 1}. ${s}\n`).join('');
    return `? task ${taskId} asks: ${pending.question}\n${suggestions}`;
  }
  let args = JSON.stringify(pending.arguments) ?? '';
  if (args.length > ARGS_SHOWN) args = args.slice(0, ARGS_SHOWN) + '…';
  return `? task ${taskId} wants to run ${pending.tool} ${args}\n`;
}

export function howToRespond(taskId: string, pending: PendingInput): string {
  return pending.kind === 'question'
    ? `  answer with: baton answer ${taskId} "<text>"\n`
    : `  respond with: baton approve ${taskId} [--feedback "..."]  or  baton deny ${taskId} [--feedback "..."]\n`;
}
