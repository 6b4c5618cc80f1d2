import type { EngineContext } from '../engine-context';
import { codeToError } from '../errors';
import { decodeMessages, MessageSchema, type Message } from '../model/message';
import type { Scripts } from '../scripts/scripts';

export { decodeMessages };

/**
 * A task's conversation: a Redis list of JSON messages. Appends are
 * compare-and-set on the expected length and fenced by the runner token, so
 * a stale runner or a duplicate append is refused instead of interleaving.
 */
export class ConversationStore {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
  ) {}

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
    const encoded = messages.map((m) => JSON.stringify(MessageSchema.parse(m)));
    const reply = await this.scripts.appendMessages(sessionId, taskId, token, expectedLength, encoded);
    if (reply.kind !== 'ok') {
      throw codeToError(reply.kind, {
        taskId,
        what: 'conversation append',
        detail: `expected length ${expectedLength}, found ${reply.length}`,
      });
    }
    return reply.length;
  }
}
