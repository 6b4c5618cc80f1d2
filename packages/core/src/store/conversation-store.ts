import type { EngineContext } from '../engine-context';
import { codeToError, ScriptCode } from '../errors';
import { MessageSchema, type Message } from '../model/message';

export function decodeMessages(raw: string[]): Message[] {
  return raw.map((m) => MessageSchema.parse(JSON.parse(m)));
}

/**
 * A task's conversation: a Redis list of JSON messages. Appends are
 * compare-and-set on the expected length and fenced by the runner token, so
 * a stale runner or a duplicate append is refused instead of interleaving.
 */
export class ConversationStore {
  constructor(private readonly ctx: EngineContext) {}

  async read(sessionId: string, taskId: string): Promise<Message[]> {
    return decodeMessages(await this.ctx.redis.lrange(this.ctx.keys.conversation(sessionId, taskId), 0, -1));
  }

  /** Returns the new length; throws CONVERSATION_CONFLICT or STALE_RUNNER when refused. */
  async append(
    sessionId: string,
    taskId: string,
    token: string,
    expectedLength: number,
    messages: Message[],
  ): Promise<number> {
    const { keys } = this.ctx;
    const encoded = messages.map((m) => JSON.stringify(MessageSchema.parse(m)));
    const [code, length] = (await this.ctx.call(
      'batonAppendMessages',
      [keys.conversation(sessionId, taskId), keys.task(sessionId, taskId)],
      [token, expectedLength, ...encoded],
    )) as [number, number];
    if (code !== ScriptCode.ok) {
      throw codeToError(code, {
        taskId,
        what: 'conversation append',
        detail: `expected length ${expectedLength}, found ${length}`,
      });
    }
    return length;
  }
}
