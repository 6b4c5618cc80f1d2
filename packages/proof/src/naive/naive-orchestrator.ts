/**
 * The "before": the in-process orchestration of the agent that inspired
 * Baton, rebuilt as docs/design.md ("The problem") describes it, bugs included, so the race
 * suite can show what goes wrong against the same fake provider Baton uses.
 *
 * - `new_task` pauses the parent (`isPaused = true`), starts the child in the
 *   same process, and parks the parent's loop polling `isPaused`.
 * - The child's `attempt_completion` runs the completion handler: it sets
 *   `isPaused = false`, appends "[new_task completed] ..." to the parent's
 *   conversation, fire-and-forgets the parent's next request (request B),
 *   then shows the green text and re-enables input.
 * - The parked loop's next poll sees `isPaused === false` and continues with
 *   its own request (request A).
 * - A user message typed after the green text is appended to the current
 *   (parent) conversation and sent (request C).
 * - Queued user messages are drained by "is the queue empty? then dequeue",
 *   with an await in between, from two places (the root's completion and the
 *   input being re-enabled): one queued message is sent twice.
 *
 * Every request carries `Idempotency-Key: <taskId>:<turn>` (turn = assistant
 * messages + 1 when the request is made) and `X-Baton-Session-Id`, exactly as
 * Baton's worker does, so the fake provider's counters compare like for like.
 * Nothing here is meant to be fixed: it is the specimen.
 */
import { EventEmitter } from 'node:events';
import type { ChatMessage, ChatRequestBody } from '@baton/testkit';
import { deferred, type Deferred } from '@baton/testkit';
import type { ChatClient } from './chat-client';

const TOOLS: Record<string, ChatRequestBody['tools']> = {
  orchestrator: [
    { type: 'function', function: { name: 'new_task', parameters: { type: 'object', properties: { mode: { type: 'string' }, message: { type: 'string' } } } } },
    { type: 'function', function: { name: 'attempt_completion', parameters: { type: 'object', properties: { result: { type: 'string' } } } } },
  ],
  code: [{ type: 'function', function: { name: 'attempt_completion', parameters: { type: 'object', properties: { result: { type: 'string' } } } } }],
};

export interface NaiveTask {
  id: string;
  mode: string;
  messages: ChatMessage[];
  /** The flag the parked parent loop polls. */
  isPaused: boolean;
  parent: NaiveTask | null;
  children: NaiveTask[];
  /** Times attempt_completion ended this task (more than one is itself a bug). */
  completions: number;
}

export interface NaiveSessionOptions {
  /** How often the parked parent loop polls `isPaused` (the original polled on a timer). */
  pollMs?: number;
}

export interface NaiveSessionEvents {
  /** The green text: a child completed and input is enabled again. */
  green: [child: NaiveTask];
  /** The root completed: the session is idle. */
  idle: [root: NaiveTask];
  /** A request failed (the naive code just logs and drops it). */
  error: [err: Error];
}

/** One chat session of the naive agent: a root orchestrator, its subtasks, a message queue. */
export class NaiveSession extends EventEmitter<NaiveSessionEvents> {
  readonly tasks: NaiveTask[] = [];
  readonly queue: string[] = [];
  inputEnabled = false;
  root: NaiveTask | null = null;
  private loops = 0;
  private settled: Deferred<void> = deferred();
  private readonly pollMs: number;
  /** The parent's new_task call id each child answers. */
  private readonly pendingCall = new Map<NaiveTask, string>();
  /** Assistant messages still being streamed in (not yet part of what the next request sends). */
  private readonly streaming = new WeakSet<ChatMessage>();

  constructor(
    readonly sessionId: string,
    private readonly client: ChatClient,
    options: NaiveSessionOptions = {},
  ) {
    super();
    this.pollMs = options.pollMs ?? 5;
  }

  /** Starts the root orchestrator task. */
  start(prompt: string): NaiveTask {
    const root = this.newTask(`${this.sessionId}-root`, 'orchestrator', prompt, null);
    this.root = root;
    this.inputEnabled = false;
    this.loop(root);
    return root;
  }

  /**
   * The chat input. While input is disabled the message is queued; once it is
   * enabled (after the green text, or when idle) it goes into the current
   * conversation at once and is sent.
   */
  sendUserMessage(text: string): void {
    if (!this.inputEnabled || !this.root) {
      this.queue.push(text);
      return;
    }
    this.root.messages.push({ role: 'user', content: text });
    this.loop(this.root);
  }

  /** Resolves when no loop of this session runs any more. */
  whenSettled(): Promise<void> {
    return this.loops === 0 ? Promise.resolve() : this.settled.promise;
  }

  private newTask(id: string, mode: string, prompt: string, parent: NaiveTask | null): NaiveTask {
    const task: NaiveTask = {
      id,
      mode,
      messages: [
        { role: 'system', content: `You are the ${mode} mode.` },
        { role: 'user', content: prompt },
      ],
      isPaused: false,
      parent,
      children: [],
      completions: 0,
    };
    this.tasks.push(task);
    parent?.children.push(task);
    return task;
  }

  /** Runs a task's loop in the background (the original's fire-and-forget). */
  private loop(task: NaiveTask): void {
    this.track(this.runTask(task));
  }

  /** Counts background work so that `whenSettled` knows when everything has stopped. */
  private track(work: Promise<void>): void {
    this.loops++;
    work
      .catch((err: unknown) => this.emit('error', err instanceof Error ? err : new Error(String(err))))
      .finally(() => {
        this.loops--;
        if (this.loops === 0) {
          this.settled.resolve();
          this.settled = deferred();
        }
      });
  }

  /**
   * One model request. Like the original's streaming UI, the assistant message
   * is added to the conversation when the request starts and filled in when
   * the answer arrives: concurrent requests interleave their messages.
   */
  private async request(task: NaiveTask): Promise<ChatMessage> {
    const turn = task.messages.filter((m) => m.role === 'assistant' && !this.streaming.has(m)).length + 1;
    const body: ChatRequestBody = { model: 'fake-model', messages: task.messages.filter((m) => !this.streaming.has(m)), tools: TOOLS[task.mode] };
    const streaming: ChatMessage = { role: 'assistant', content: '' };
    this.streaming.add(streaming);
    task.messages.push(streaming);
    const message = await this.client.complete({ sessionId: this.sessionId, idempotencyKey: `${task.id}:${turn}`, body });
    this.streaming.delete(streaming);
    return Object.assign(streaming, message);
  }

  private async runTask(task: NaiveTask): Promise<void> {
    for (;;) {
      const message = await this.request(task);
      const call = message.tool_calls?.[0];
      if (!call) return;
      const args = JSON.parse(call.function.arguments || '{}') as { mode?: string; message?: string; result?: string };
      if (call.function.name === 'new_task') {
        const child = this.newTask(`${task.id}.${task.children.length + 1}`, args.mode ?? 'code', args.message ?? '', task);
        task.isPaused = true;
        this.pendingCall.set(child, call.id);
        this.loop(child);
        // Parked: poll the flag until the completion handler clears it.
        while (task.isPaused) await new Promise((resolve) => setTimeout(resolve, this.pollMs));
        continue; // request A
      }
      // attempt_completion
      task.messages.push({ role: 'tool', tool_call_id: call.id, content: 'completed' });
      task.completions++;
      this.onCompletion(task, args.result ?? '');
      return;
    }
  }

  /** The completion handler. */
  private onCompletion(task: NaiveTask, result: string): void {
    const parent = task.parent;
    if (parent) {
      parent.isPaused = false;
      parent.messages.push({ role: 'tool', tool_call_id: this.pendingCall.get(task) ?? 'unknown', content: `[new_task completed] ${result}` });
      this.loop(parent); // fire-and-forget: request B
      this.inputEnabled = true; // the green text; the user may type now (request C)
      this.emit('green', task);
      return;
    }
    this.inputEnabled = true;
    this.emit('idle', task);
    this.track(this.drainQueue()); // the completion path drains the queue...
    this.onInputEnabled();
  }

  /** ...and so does the input box when it is re-enabled. */
  private onInputEnabled(): void {
    this.track(this.drainQueue());
  }

  /** "Is the queue empty? then dequeue", not atomic: an await sits between the check and the dequeue. */
  private async drainQueue(): Promise<void> {
    if (this.queue.length === 0) return;
    const text = this.queue[0]!;
    await this.persistUiState();
    this.root!.messages.push({ role: 'user', content: text });
    this.loop(this.root!);
    this.queue.shift();
  }

  /** Stands for the original's awaited state save; any await opens the window. */
  private async persistUiState(): Promise<void> {
    await Promise.resolve();
  }
}
