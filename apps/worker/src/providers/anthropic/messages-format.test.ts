import { conversationProblems, type Message } from '@baton/core';
import { AnthropicResponseSchema, EMPTY_TURN, fromAnthropicResponse, toAnthropicRequest } from './messages-format';

const tools = [
  {
    type: 'function' as const,
    function: { name: 'read_file', description: 'Reads', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
  },
  { type: 'function' as const, function: { name: 'attempt_completion', description: 'Ends', parameters: { type: 'object' } } },
];

const conversation: Message[] = [
  { role: 'system', content: 'You are code.' },
  { role: 'user', content: 'fix it' },
  {
    role: 'assistant',
    content: 'Reading two files.',
    tool_calls: [
      { id: 'c1', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } },
      { id: 'c2', type: 'function', function: { name: 'read_file', arguments: '{"path":' } },
    ],
  },
  { role: 'tool', tool_call_id: 'c1', content: '1 | x' },
  { role: 'tool', tool_call_id: 'c2', content: 'error: invalid JSON' },
  { role: 'user', content: 'Please use a tool.' },
];

describe('toAnthropicRequest', () => {
  it('moves system to the top level, turns calls into tool_use and results into one alternating user turn', () => {
    const req = toAnthropicRequest({ model: 'claude-x', messages: conversation, tools }, { maxTokens: 4096, cache: false });
    expect(req.system).toEqual([{ type: 'text', text: 'You are code.' }]);
    expect(req.max_tokens).toBe(4096);
    expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(req.messages[1]!.content).toEqual([
      { type: 'text', text: 'Reading two files.' },
      { type: 'tool_use', id: 'c1', name: 'read_file', input: { path: 'a.ts' } },
      // Malformed arguments (answered with a tool error) stay in the history, verbatim.
      { type: 'tool_use', id: 'c2', name: 'read_file', input: { _raw: '{"path":' } },
    ]);
    expect(req.messages[2]!.content).toEqual([
      { type: 'tool_result', tool_use_id: 'c1', content: '1 | x' },
      { type: 'tool_result', tool_use_id: 'c2', content: 'error: invalid JSON' },
      { type: 'text', text: 'Please use a tool.' },
    ]);
    expect(req.tools).toEqual([
      { name: 'read_file', description: 'Reads', input_schema: tools[0]!.function.parameters },
      { name: 'attempt_completion', description: 'Ends', input_schema: { type: 'object' } },
    ]);
  });

  it('puts cache breakpoints on the system prompt, the last tool and the last block, and nowhere else', () => {
    const req = toAnthropicRequest({ model: 'm', messages: conversation, tools }, { maxTokens: 1 });
    const marked = JSON.stringify(req).match(/cache_control/g) ?? [];
    expect(marked).toHaveLength(3);
    expect(req.system![0]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(req.tools![1]!.cache_control).toEqual({ type: 'ephemeral' });
    expect(req.tools![0]!.cache_control).toBeUndefined();
    expect(req.messages[2]!.content[2]!.cache_control).toEqual({ type: 'ephemeral' });
  });

  it('sends no system or tools field when there are none, and keeps an empty assistant turn', () => {
    const req = toAnthropicRequest(
      {
        model: 'm',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: null },
          { role: 'user', content: 'again' },
        ],
        tools: [],
      },
      { maxTokens: 10, cache: false },
    );
    expect(req).toEqual({
      model: 'm',
      max_tokens: 10,
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'text', text: EMPTY_TURN }] },
        { role: 'user', content: [{ type: 'text', text: 'again' }] },
      ],
    });
  });
});

describe('fromAnthropicResponse', () => {
  it('turns text and tool_use blocks into one assistant message with tool calls, and maps usage and stop reason', () => {
    const body = AnthropicResponseSchema.parse({
      id: 'msg_1',
      type: 'message',
      model: 'claude-x',
      content: [
        { type: 'thinking', thinking: '...' },
        { type: 'text', text: 'Done. ' },
        { type: 'tool_use', id: 'toolu_1', name: 'attempt_completion', input: { result: 'ok' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, output_tokens: 7, cache_read_input_tokens: 100, cache_creation_input_tokens: 5 },
    });
    const out = fromAnthropicResponse(body);
    expect(out.message).toEqual({
      role: 'assistant',
      content: 'Done. ',
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'attempt_completion', arguments: '{"result":"ok"}' } }],
    });
    expect(out.finishReason).toBe('tool_calls');
    expect(out.usage).toEqual({ prompt_tokens: 115, completion_tokens: 7, total_tokens: 122, cached_tokens: 100 });
    expect(out.model).toBe('claude-x');
  });

  it('maps max_tokens to length and a text-only answer to stop with null content when empty', () => {
    expect(fromAnthropicResponse(AnthropicResponseSchema.parse({ content: [{ type: 'text', text: 'cut' }], stop_reason: 'max_tokens' })).finishReason).toBe(
      'length',
    );
    const empty = fromAnthropicResponse(AnthropicResponseSchema.parse({ content: [], stop_reason: 'end_turn' }));
    expect(empty.message).toEqual({ role: 'assistant', content: null });
    expect(empty.finishReason).toBe('stop');
    expect(empty.usage).toBeUndefined();
  });

  it('round-trips: a response converted back and replayed as history gives the same blocks, and the conversation stays well formed', () => {
    const out = fromAnthropicResponse(
      AnthropicResponseSchema.parse({ content: [{ type: 'tool_use', id: 't9', name: 'read_file', input: { path: 'b' } }], stop_reason: 'tool_use' }),
    );
    const history: Message[] = [{ role: 'user', content: 'go' }, out.message, { role: 'tool', tool_call_id: 't9', content: 'x' }];
    expect(conversationProblems(history)).toEqual([]);
    const req = toAnthropicRequest({ model: 'm', messages: history, tools: [] }, { maxTokens: 1, cache: false });
    expect(req.messages[1]!.content).toEqual([{ type: 'tool_use', id: 't9', name: 'read_file', input: { path: 'b' } }]);
  });
});
