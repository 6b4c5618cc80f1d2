import { conversationProblems, type Message } from '@baton/core';
import { ProviderError } from '../../providers/model-provider';
import { assistantCount } from '../conversation';
import { condensedConversation, findCut, isContextTooLong, nextTurnOffset, originalPrompt, summaryOf, summaryRequestMessages } from './condense-plan';
import { CONDENSE_REQUEST, CONDENSE_SYSTEM_PROMPT } from './condense-prompt';

const sys: Message = { role: 'system', content: 'sys' };
const user: Message = { role: 'user', content: 'do the thing' };
/** An assistant turn with `calls` tool calls and their results. */
function turn(n: number, calls = 1): Message[] {
  const ids = Array.from({ length: calls }, (_, i) => `c${n}_${i}`);
  return [
    { role: 'assistant', content: null, tool_calls: ids.map((id) => ({ id, type: 'function' as const, function: { name: 'read', arguments: '{}' } })) },
    ...ids.map((id): Message => ({ role: 'tool', tool_call_id: id, content: `result ${id}` })),
  ];
}
const textTurn = (n: number): Message[] => [
  { role: 'assistant', content: `text ${n}` },
  { role: 'user', content: 'use a tool' },
];

describe('findCut', () => {
  it('cuts at the start of a turn, keeping at least `keep` messages, never between a call and its results', () => {
    const messages = [sys, user, ...turn(1, 2), ...turn(2, 3), ...turn(3, 1)];
    // Indexes: t1 at 2 (2 results), t2 at 5 (3 results), t3 at 9 (1 result); length 11.
    expect(findCut(messages, 2)).toBe(9);
    expect(findCut(messages, 3)).toBe(5); // 9 would keep only 2
    expect(findCut(messages, 0)).toBe(9);
    for (const keep of [0, 1, 2, 3, 4, 5, 6, 7, 20]) {
      const cut = findCut(messages, keep)!;
      expect(messages[cut]?.role).toBe('assistant');
      expect(conversationProblems(condensedConversation(messages, cut, 'sum', 1))).toEqual([]);
    }
  });

  it('keeps more than `keep` rather than nothing to summarize; a single turn is summarized whole', () => {
    const messages = [sys, user, ...turn(1), ...turn(2)];
    expect(findCut(messages, 10)).toBe(4);
    const single = [sys, user, ...turn(1, 3)];
    expect(findCut(single, 3)).toBe(single.length);
    expect(conversationProblems(condensedConversation(single, single.length, 'sum', 1))).toEqual([]);
  });

  it('nothing to condense: no turn yet, an unanswered call, or not a task conversation', () => {
    expect(findCut([sys, user], 0)).toBeUndefined();
    expect(findCut([sys, user, ...turn(1), ...turn(2).slice(0, 1)], 0)).toBeUndefined();
    expect(findCut([user, ...turn(1), ...turn(2)], 0)).toBeUndefined();
  });

  it('nudged text replies stay with their nudge (the kept tail starts with an assistant message)', () => {
    const messages = [sys, user, ...turn(1), ...textTurn(2), ...turn(3), ...textTurn(4), ...turn(5)];
    for (const keep of [0, 1, 2, 3, 4, 5, 6]) {
      const cut = findCut(messages, keep)!;
      expect(messages[cut]?.role).toBe('assistant');
      expect(conversationProblems(condensedConversation(messages, cut, 'sum', 1))).toEqual([]);
      expect(conversationProblems(summaryRequestMessages(messages, cut))).toEqual([]);
    }
  });
});

describe('condensed conversation', () => {
  const messages = [sys, user, ...turn(1), ...turn(2), ...turn(3)];

  it('is system, the first user message with the marked summary, and the kept tail verbatim', () => {
    const cut = findCut(messages, 2)!;
    const next = condensedConversation(messages, cut, '  the summary  ', 1);
    expect(next[0]).toBe(sys);
    expect(next[1]?.role).toBe('user');
    expect(next[1]?.content).toMatch(/^do the thing\n\n<conversation_summary condense="1">\n/);
    expect(summaryOf(next)).toContain('the summary');
    expect(next.slice(2)).toEqual(messages.slice(cut));
    expect(conversationProblems(next)).toEqual([]);
  });

  it('a second condense summarizes the first summary and keeps the original prompt once', () => {
    const once = condensedConversation(messages, findCut(messages, 2)!, 'first', 1);
    const longer = [...once, ...turn(4), ...turn(5)];
    const twice = condensedConversation(longer, findCut(longer, 2)!, 'second', 2);
    expect(originalPrompt(twice[1]!.content as string)).toBe('do the thing');
    expect(summaryOf(twice)).toBe("The earlier part of this task's conversation was condensed into this summary:\n\nsecond");
    expect((twice[1]!.content as string).match(/conversation_summary condense/g)).toHaveLength(1);
    // The summary request of the second condense carries the first summary.
    expect(summaryRequestMessages(longer, findCut(longer, 2)!)[1]?.content).toContain('first');
  });

  it('turn offset: the next turn keeps its number', () => {
    const cut = findCut(messages, 2)!;
    const next = condensedConversation(messages, cut, 's', 1);
    const offset = nextTurnOffset(0, messages, next);
    expect(offset + assistantCount(next) + 1).toBe(assistantCount(messages) + 1);
    expect(offset).toBe(2);
    const later = [...next, ...turn(4), ...turn(5)];
    const again = condensedConversation(later, findCut(later, 2)!, 's2', 2);
    expect(nextTurnOffset(offset, later, again) + assistantCount(again) + 1).toBe(offset + assistantCount(later) + 1);
  });
});

describe('summaryRequestMessages', () => {
  it('the condense prompt, the messages before the cut (no task system prompt), then the request', () => {
    const messages = [sys, user, ...turn(1), ...turn(2)];
    const req = summaryRequestMessages(messages, 4);
    expect(req).toEqual([{ role: 'system', content: CONDENSE_SYSTEM_PROMPT }, user, ...turn(1), { role: 'user', content: CONDENSE_REQUEST }]);
    expect(conversationProblems(req)).toEqual([]);
  });

  it('joins the request to a last user message (no two user messages in a row)', () => {
    const messages = [sys, user, ...textTurn(1), ...turn(2)];
    const req = summaryRequestMessages(messages, 4);
    expect(req[req.length - 1]).toEqual({ role: 'user', content: `use a tool\n\n${CONDENSE_REQUEST}` });
    expect(conversationProblems(req)).toEqual([]);
  });
});

describe('isContextTooLong', () => {
  it.each([
    ["provider returned 400: This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.", 400],
    ['provider returned 400: context_length_exceeded', 400],
    ['provider returned 400: prompt is too long: 210000 tokens > 200000 maximum', 400],
    ['provider returned 413: request exceeds the context window', 413],
  ])('%s', (message, status) => {
    expect(isContextTooLong(new ProviderError(message, status, 1))).toBe(true);
  });

  it('not other 400s, not other statuses, not other errors', () => {
    expect(isContextTooLong(new ProviderError('provider returned 400: model not found', 400, 1))).toBe(false);
    expect(isContextTooLong(new ProviderError('provider returned 500: maximum context length', 500, 1))).toBe(false);
    expect(isContextTooLong(new Error('prompt is too long'))).toBe(false);
  });
});
