import type { EngineContext } from '../engine-context';
import { codeToError } from '../errors';
import { z } from 'zod';
import { decodeMessages, MessageSchema, type ConversationVersion, type Message } from '../model/message';
import type { Scripts } from '../scripts/scripts';
import type { CarriedWrites } from '../scripts/task-scripts';

export { decodeMessages };

/** Messages as the conversation list stores them (validated, one JSON string each). */
export function encodeMessages(messages: Message[]): string[] {
  return messages.map((m) => JSON.stringify(MessageSchema.parse(m)));
}

/** A conversation version a condense replaced, as the archive keeps it (and the export shows it). */
export const ArchivedConversationSchema = z.object({
  /** 0 for the task's original conversation, n for the version the n-th condense made. */
  version: z.number().int().min(0),
  /** When it was replaced (epoch ms). */
  condensedAt: z.number().int(),
  /** Turns of the task before this version's first assistant message. */
  turnOffset: z.number().int().min(0),
  messages: z.array(MessageSchema),
});
export type ArchivedConversation = z.infer<typeof ArchivedConversationSchema>;

export type { ConversationVersion };

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
  async append(sessionId: string, taskId: string, token: string, expectedLength: number, messages: Message[]): Promise<number> {
    return this.write(sessionId, taskId, token, { append: { expectedLength, encoded: encodeMessages(messages) } });
  }

  /**
   * Applies a runner's carried writes on their own (messages compare-and-set,
   * then fields and events). Returns the new length (-1 when no message was
   * carried); throws CONVERSATION_CONFLICT or STALE_RUNNER when refused.
   */
  async write(sessionId: string, taskId: string, token: string, carry: CarriedWrites): Promise<number> {
    const reply = await this.scripts.appendMessages(sessionId, taskId, token, carry);
    if (reply.kind !== 'ok') {
      throw codeToError(reply.kind, {
        taskId,
        what: 'conversation append',
        detail: `expected length ${carry.append?.expectedLength ?? '-'}, found ${reply.length}`,
      });
    }
    return reply.length;
  }

  /** The live version and its turn offset (task hash fields `convVersion`, `turnOffset`). */
  async version(sessionId: string, taskId: string): Promise<ConversationVersion> {
    const [version, turnOffset] = await this.ctx.redis.hmget(this.ctx.keys.task(sessionId, taskId), 'convVersion', 'turnOffset');
    return { version: Number(version ?? 0), turnOffset: Number(turnOffset ?? 0) };
  }

  /** The versions condenses replaced, oldest first. */
  async archived(sessionId: string, taskId: string): Promise<ArchivedConversation[]> {
    const raw = await this.ctx.redis.lrange(this.ctx.keys.conversationArchive(sessionId, taskId), 0, -1);
    return raw.map((r) => ArchivedConversationSchema.parse(JSON.parse(r)));
  }

  /**
   * Archives the live conversation and makes `messages` the live one, in one
   * fenced compare-and-set step (expected length and version). Returns the new
   * version; throws CONVERSATION_CONFLICT or STALE_RUNNER when refused.
   */
  async condense(
    sessionId: string,
    taskId: string,
    token: string,
    expected: { length: number; version: number },
    turnOffset: number,
    messages: Message[],
  ): Promise<number> {
    const encoded = encodeMessages(messages);
    const reply = await this.scripts.condenseConversation({
      sessionId,
      taskId,
      token,
      expectedLength: expected.length,
      expectedVersion: expected.version,
      turnOffset,
      encoded,
    });
    if (reply.kind !== 'ok') {
      throw codeToError(reply.kind, {
        taskId,
        what: 'conversation condense',
        detail: `expected length ${expected.length} at version ${expected.version}, found ${reply.length} at version ${reply.version}`,
      });
    }
    return reply.version;
  }
}
