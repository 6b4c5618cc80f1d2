/**
 * The message text a prefix holds, so the memory figures can be given
 * without it (the memory targets leave message text out: it is the user's
 * data, and grows with what the model says, not with what Baton keeps about it).
 *
 * Message text is, exactly: the bytes (UTF-8) of every entry of every
 * conversation list (`...:task:<t>:conv`: one JSON message per entry, its
 * role, content, tool calls and tool-call ids included), of every archived
 * conversation version (`...:conv-archive`), and of every committed response
 * (the `<turn>:response` fields of the gate hashes: the provider's answer as
 * committed, which a replay returns). Only the values' bytes are counted:
 * what Redis spends around them (list and hash entry headers, key names,
 * dictionary entries) stays in the figure. Every other value stays too,
 * including a task hash's `prompt` and `result` and the events' data.
 */
import type { Redis } from 'ioredis';

export interface MessageText {
  /** Bytes of conversation entries (live and archived). */
  conversations: number;
  /** Bytes of committed responses. */
  responses: number;
}

const isResponseField = (field: string) => field.endsWith(':response');

export async function messageText(redis: Redis, prefix: string): Promise<MessageText> {
  const out: MessageText = { conversations: 0, responses: 0 };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*:task:*`, 'COUNT', 1000);
    cursor = next;
    const texts = keys.filter((k) => k.endsWith(':conv') || k.endsWith(':conv-archive') || k.endsWith(':gate'));
    if (texts.length === 0) continue;
    const p = redis.pipeline();
    for (const key of texts) {
      if (key.endsWith(':gate')) p.hgetall(key);
      else p.lrange(key, 0, -1);
    }
    const replies = (await p.exec())!;
    texts.forEach((key, i) => {
      const value = replies[i]![1];
      if (key.endsWith(':gate')) {
        for (const [field, v] of Object.entries(value as Record<string, string>)) if (isResponseField(field)) out.responses += Buffer.byteLength(v);
      } else {
        for (const entry of value as string[]) out.conversations += Buffer.byteLength(entry);
      }
    });
  } while (cursor !== '0');
  return out;
}
