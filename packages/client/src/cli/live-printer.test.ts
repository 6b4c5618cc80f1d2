import type { SessionEvent } from '../event-stream';
import { LiveMessages, type MessageDelta } from '../live-text';
import { LivePrinter } from './live-printer';

const delta = (taskId: string, d: Partial<MessageDelta> & { seq: number }): SessionEvent => ({
  id: `${d.seq}-0`,
  type: 'message.delta',
  taskId,
  reset: null,
  data: { id: `${d.seq}-0`, type: 'message.delta', sessionId: 's', taskId, at: '', data: { turn: 1, grant: 1, attempt: 1, ...d } },
});
const committed = (taskId: string): SessionEvent => ({ id: '99-0', type: 'turn.completed', taskId, reset: null, data: { data: { turn: 1 } } });

describe('LiveMessages', () => {
  it('assembles text and tool calls per (task, turn), restarts on a higher try and drops lower ones', () => {
    const live = new LiveMessages();
    const d = (x: Partial<MessageDelta>): MessageDelta => ({ turn: 1, grant: 1, attempt: 1, seq: 1, ...x });
    expect(live.apply('t', d({ text: 'Hel' }))).toEqual({ restarted: false, text: 'Hel', toolCalls: [] });
    live.apply('t', d({ text: 'lo', toolCalls: [{ index: 0, id: 'c', name: 'add', arguments: '{"a"' }] }));
    live.apply('t', d({ toolCalls: [{ index: 0, arguments: ':1}' }] }));
    live.apply('u', d({ text: 'other task' }));
    expect(live.text('t', 1)).toBe('Hello');
    expect(live.toolCalls('t', 1)).toEqual([{ index: 0, id: 'c', name: 'add', arguments: '{"a":1}' }]);

    expect(live.apply('t', d({ attempt: 2, text: 'H' }))?.restarted).toBe(true);
    expect(live.apply('t', d({ attempt: 1, text: 'late' }))).toBeNull();
    expect(live.apply('t', d({ grant: 2, attempt: 1, text: 'G' }))?.restarted).toBe(true); // another worker took the turn
    expect(live.apply('t', d({ grant: 1, attempt: 3, text: 'zombie' }))).toBeNull();
    expect(live.text('t', 1)).toBe('G');
    expect(live.text('u', 1)).toBe('other task');
    live.end('t', 1);
    expect(live.text('t', 1)).toBe('');
  });
});

describe('LivePrinter', () => {
  it('writes tokens as they come, a tool call as a compact line, a marker on a retry, and ends the line on the commit', () => {
    let out = '';
    let starts = 0;
    const printer = new LivePrinter({ write: (t) => (out += String(t)) }, () => starts++);
    printer.event(delta('t', { seq: 1, text: 'Hel' }));
    printer.event(delta('t', { seq: 2, text: 'lo' }));
    expect(out).toBe('Hello');
    expect(printer.open).toBe(true);
    printer.event(delta('t', { seq: 3, attempt: 2, text: 'Hi' }));
    printer.event(delta('t', { seq: 4, attempt: 1, text: ' (late)' }));
    printer.event(delta('t', { seq: 5, attempt: 2, text: '!', toolCalls: [{ index: 0, id: 'c1', name: 'add', arguments: '{"a":' }] }));
    printer.event(delta('t', { seq: 6, attempt: 2, toolCalls: [{ index: 0, arguments: '1}' }] }));
    printer.event(committed('t'));
    expect(out).toBe('Hello\n[stream interrupted; retrying]\nHi!\n> add {"a":1}\n');
    expect(printer.open).toBe(false);
    expect(starts).toBe(1);
    printer.end(); // nothing open: nothing written
    expect(out.endsWith('}\n')).toBe(true);
  });
});
