import { SseParser } from './sse-parser';

/** Feeds `text` cut at every possible point, so chunk boundaries never change the result. */
function everySplit(text: string): ReturnType<SseParser['push']>[] {
  const results = [];
  for (let cut = 0; cut <= text.length; cut++) {
    const parser = new SseParser();
    results.push([...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut))]);
  }
  return results;
}

describe('SseParser', () => {
  it('parses id, event and data, and keeps the id for events without one', () => {
    const parser = new SseParser();
    const out = parser.push('id: 1-0\nevent: task.created\ndata: {"a":1}\n\nevent: x\ndata: y\n\n');
    expect(out).toEqual([
      { id: '1-0', event: 'task.created', data: '{"a":1}' },
      { id: '1-0', event: 'x', data: 'y' },
    ]);
    expect(parser.lastEventId).toBe('1-0');
  });

  it('joins multi-line data, defaults the event to "message", and strips one leading space only', () => {
    expect(new SseParser().push('data:a\ndata:  b\ndata\n\n')).toEqual([{ id: '', event: 'message', data: 'a\n b\n' }]);
  });

  it('treats LF, CR and CRLF alike, wherever the chunks are cut', () => {
    const expected = [
      { id: '7-1', event: 'e', data: 'd1' },
      { id: '7-1', event: 'message', data: 'd2' },
    ];
    for (const eol of ['\n', '\r', '\r\n']) {
      // A bare CR may be the first half of a CRLF: the library completes the event once a later line has ended.
      const text = ['id: 7-1', 'event: e', 'data: d1', '', 'data: d2', '', ''].join(eol) + (eol === '\r' ? 'data: next\r' : '');
      for (const result of everySplit(text)) expect(result).toEqual(expected);
    }
  });

  it('counts keep-alive comments and ignores unknown fields; an event with no data is not dispatched', () => {
    const parser = new SseParser();
    expect(parser.push(': keep-alive\n\nfoo: bar\n\nid: 9-0\n\n')).toEqual([]);
    expect(parser.comments).toBe(1);
    expect(parser.push('id: 10-0\ndata: d\n\n')).toEqual([{ id: '10-0', event: 'message', data: 'd' }]);
  });

  it('reads retry as a number only when it is all digits; ignores ids containing NUL', () => {
    const parser = new SseParser();
    parser.push('retry: 250\nretry: 1s\nid: a\0b\n\n');
    expect(parser.retryMs).toBe(250);
    expect(parser.lastEventId).toBe('');
  });

  it('skips a leading BOM; the id of a half-received event is not "seen", so a reconnect asks for that event again', () => {
    const parser = new SseParser();
    expect(parser.push('\uFEFFid: 1-0\ndata: whole\n\nid: 2-0\ndata: half')).toEqual([{ id: '1-0', event: 'message', data: 'whole' }]);
    expect(parser.lastEventId).toBe('1-0');
    parser.reset();
    expect(parser.lastEventId).toBe('1-0');
    expect(parser.push('id: 2-0\ndata: again\n\n')).toEqual([{ id: '2-0', event: 'message', data: 'again' }]);
  });
});
