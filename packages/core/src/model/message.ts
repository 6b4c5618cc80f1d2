import { z } from 'zod';

/** OpenAI chat-completions message format, tool calls and tool results included. */
export const ToolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});
export type ToolCall = z.infer<typeof ToolCallSchema>;

/**
 * A system message. An agent conversation stores only a reference to its system prompt (`content`
 * '' and `ref` `<mode>@<hash of the prompt>`): the worker rebuilds the prompt for every request
 * from the task's current mode and tools, so the text itself would be a copy nobody sends.
 */
export const SystemMessageSchema = z.object({
  role: z.literal('system'),
  content: z.string(),
  /** `<mode slug>@<first 16 hex of the prompt's SHA-256>`: which prompt the task started with, when `content` is left out. */
  ref: z.string().optional(),
});
export const UserMessageSchema = z.object({ role: z.literal('user'), content: z.string() });
export const AssistantMessageSchema = z.object({
  role: z.literal('assistant'),
  content: z.string().nullable(),
  tool_calls: z.array(ToolCallSchema).optional(),
});
export const ToolMessageSchema = z.object({
  role: z.literal('tool'),
  tool_call_id: z.string().min(1),
  content: z.string(),
});

export const MessageSchema = z.discriminatedUnion('role', [SystemMessageSchema, UserMessageSchema, AssistantMessageSchema, ToolMessageSchema]);
export type Message = z.infer<typeof MessageSchema>;
export type AssistantMessage = z.infer<typeof AssistantMessageSchema>;

/**
 * Well-formedness of a conversation (a provider rejects a conversation otherwise): every tool call is
 * answered exactly once, by the messages that directly follow its assistant
 * message, and no tool message answers an unknown call. Returns the problems.
 */
export function conversationProblems(messages: readonly Message[]): string[] {
  const problems: string[] = [];
  let pending: string[] = [];
  messages.forEach((m, i) => {
    if (m.role === 'tool') {
      const at = pending.indexOf(m.tool_call_id);
      if (at === -1) problems.push(`#${i}: tool result for unknown or answered call ${m.tool_call_id}`);
      else pending.splice(at, 1);
      return;
    }
    if (pending.length > 0) problems.push(`#${i}: ${m.role} message before calls ${pending.join(',')} were answered`);
    pending = m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [];
    if (m.role === 'user' && i > 0 && messages[i - 1]?.role === 'user') problems.push(`#${i}: consecutive user messages`);
    if (m.role === 'assistant' && i > 0 && messages[i - 1]?.role === 'assistant') problems.push(`#${i}: consecutive assistant messages`);
  });
  if (pending.length > 0) problems.push(`end: unanswered calls ${pending.join(',')}`);
  return problems;
}

/** Decodes a conversation as stored (one JSON message per list entry). */
export function decodeMessages(raw: string[]): Message[] {
  return raw.map((m) => MessageSchema.parse(JSON.parse(m)));
}

/** Where a task's live conversation stands after its condenses (both 0 before the first). */
export interface ConversationVersion {
  version: number;
  turnOffset: number;
}
