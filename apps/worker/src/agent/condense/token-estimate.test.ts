import type { Message } from '@baton/core';
import { estimateTokens, TOKENS_PER_CALL, TOKENS_PER_MESSAGE } from './token-estimate';

describe('estimateTokens', () => {
  it('is 0 for nothing, and characters / 4 (rounded up) plus framing per message', () => {
    expect(estimateTokens([])).toBe(0);
    expect(estimateTokens([{ role: 'user', content: 'x'.repeat(400) }])).toBe(100 + TOKENS_PER_MESSAGE);
    expect(estimateTokens([{ role: 'user', content: 'abcde' }])).toBe(2 + TOKENS_PER_MESSAGE);
  });

  it('counts tool calls (id, name, arguments) and tool results (id, content), not only text', () => {
    const call: Message = {
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'read', arguments: 'x'.repeat(394) } }],
    };
    expect(estimateTokens([call])).toBe(100 + TOKENS_PER_MESSAGE + TOKENS_PER_CALL);
    expect(estimateTokens([{ role: 'tool', tool_call_id: 'c1', content: 'y'.repeat(398) }])).toBe(100 + TOKENS_PER_MESSAGE);
  });

  it('grows with the conversation (monotonic in appended messages)', () => {
    const a: Message[] = [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'hello' },
    ];
    const b: Message[] = [...a, { role: 'assistant', content: 'hi there' }];
    expect(estimateTokens(b)).toBeGreaterThan(estimateTokens(a));
  });
});
