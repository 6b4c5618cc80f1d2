import type { Message } from '@baton/core';
import { answeredCalls, assistantCount, lastAssistant, withUniqueCallIds } from './conversation';

const call = (id: string) => ({ id, type: 'function' as const, function: { name: 'new_task', arguments: '{}' } });

describe('conversation reads', () => {
  const messages: Message[] = [
    { role: 'system', content: 's' },
    { role: 'user', content: 'u' },
    { role: 'assistant', content: null, tool_calls: [call('a'), call('b')] },
    { role: 'tool', tool_call_id: 'a', content: 'ok' },
  ];

  it('derives the turn and the unanswered calls from the stored messages alone', () => {
    expect(assistantCount(messages)).toBe(1);
    expect(lastAssistant(messages)?.index).toBe(2);
    expect([...answeredCalls(messages, 2)]).toEqual(['a']);
  });

  it('renames tool-call ids already used in the conversation, deterministically', () => {
    const next = { role: 'assistant' as const, content: null, tool_calls: [call('a'), call('c'), call('c')] };
    const fixed = withUniqueCallIds(next, messages, 2);
    expect(fixed.tool_calls?.map((c) => c.id)).toEqual(['call_t2_0', 'c', 'call_t2_2']);
    expect(withUniqueCallIds(next, messages, 2)).toEqual(fixed);
  });
});
