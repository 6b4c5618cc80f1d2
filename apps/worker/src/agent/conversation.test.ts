import type { Message } from '@baton/core';
import { systemReference } from '../prompt/system-reference';
import { answeredCalls, assistantCount, lastAssistant, withSystemPrompt, withUniqueCallIds } from './conversation';

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

  it('a request sends the prompt in place of the stored reference (or of a stored text): nothing else changes', () => {
    const stored: Message[] = [systemReference('code', 'the prompt'), ...messages.slice(1)];
    const sent = withSystemPrompt(stored, 'the prompt');
    expect(sent).toEqual([{ role: 'system', content: 'the prompt' }, ...messages.slice(1)]);
    expect(JSON.stringify(sent[0])).toBe('{"role":"system","content":"the prompt"}');
    expect(withSystemPrompt(messages, 'the prompt')).toEqual(sent);
    // The reference: the mode and a hash of the prompt, the same for the same prompt; no text.
    expect(stored[0]).toEqual({ role: 'system', content: '', ref: expect.stringMatching(/^code@[0-9a-f]{16}$/) });
    expect(systemReference('code', 'the prompt')).toEqual(stored[0]);
    expect(systemReference('code', 'another prompt')).not.toEqual(stored[0]);
    // Turn derivation does not look at it.
    expect(assistantCount(stored)).toBe(assistantCount(messages));
  });
});
