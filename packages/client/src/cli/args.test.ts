import { parseCommand, UsageError } from './args';

describe('parseCommand', () => {
  it('parses submit with every option', () => {
    expect(
      parseCommand(['submit', 's-1', 'do it', '--mode', 'code', '--idempotency-key', 'k1', '--on-busy', 'interrupt', '--metadata', '{"a":1}', '--watch']),
    ).toEqual({ name: 'submit', sessionId: 's-1', prompt: 'do it', mode: 'code', idempotencyKey: 'k1', onBusy: 'interrupt', metadata: { a: 1 }, watch: true });
    expect(parseCommand(['submit', 's', 'hi'])).toEqual({ name: 'submit', sessionId: 's', prompt: 'hi', watch: false });
  });

  it('parses the task and session commands', () => {
    for (const name of ['watch', 'cancel', 'task', 'tree', 'messages'] as const) expect(parseCommand([name, 't.1_x'])).toEqual({ name, taskId: 't.1_x' });
    for (const name of ['session', 'pause', 'resume'] as const) expect(parseCommand([name, 's1'])).toEqual({ name, sessionId: 's1' });
    expect(parseCommand(['export', 't1'])).toEqual({ name: 'export', taskId: 't1' });
    expect(parseCommand(['export', 't1', '--out', 'tree.json'])).toEqual({ name: 'export', taskId: 't1', out: 'tree.json' });
    expect(parseCommand(['export', '-o', 'x.json', 't1'])).toEqual({ name: 'export', taskId: 't1', out: 'x.json' });
    expect(parseCommand(['delete', 't1'])).toEqual({ name: 'delete', taskId: 't1' });
    expect(parseCommand(['delete-session', 's1'])).toEqual({ name: 'delete-session', sessionId: 's1', waitSeconds: 30 });
    expect(parseCommand(['delete-session', 's1', '--wait', '2.5'])).toEqual({ name: 'delete-session', sessionId: 's1', waitSeconds: 2.5 });
    expect(parseCommand(['delete-session', 's1', '--wait=0'])).toEqual({ name: 'delete-session', sessionId: 's1', waitSeconds: 0 });
    expect(parseCommand([])).toEqual({ name: 'help' });
    expect(parseCommand(['--help'])).toEqual({ name: 'help' });
  });

  it.each([
    [['frob'], "unknown command 'frob'"],
    [['submit', 's1'], 'submit: missing <prompt>'],
    [['submit', 's1', 'two', 'words'], "unexpected argument 'words' (quote the prompt"],
    [['submit', 's1', ''], 'submit: the prompt is empty'],
    [['submit', 's1', 'hi', '--on-busy', 'later'], "--on-busy must be one of enqueue, reject, interrupt, got 'later'"],
    [['submit', 's1', 'hi', '--on-busy'], "submit: Option '--on-busy <value>' argument missing"],
    [['submit', 's1', 'hi', '--metadata', '{'], '--metadata must be JSON'],
    [['submit', 's1', 'hi', '--bogus'], "submit: Unknown option '--bogus'"],
    [['submit', 'bad/id', 'hi'], "invalid session id 'bad/id'"],
    [['watch'], 'watch: missing <task>'],
    [['watch', 'a', 'b'], "watch: unexpected argument 'b'"],
    [['cancel', 'x'.repeat(129)], 'invalid task id'],
    [['pause', '--now', 's1'], "pause: Unknown option '--now'"],
    [['export'], 'export: missing <task>'],
    [['export', 't1', '--out', ''], 'export: --out is empty'],
    [['export', 't1', 't2'], "export: unexpected argument 't2'"],
    [['delete', 'bad/id'], "invalid task id 'bad/id'"],
    [['delete', 't1', '--force'], "delete: Unknown option '--force'"],
    [['delete-session'], 'delete-session: missing <session>'],
    [['delete-session', 's1', '--wait', 'soon'], "--wait must be a number of seconds from 0 to 3600, got 'soon'"],
    [['delete-session', 's1', '--wait=-1'], '--wait must be a number of seconds'],
    [['delete-session', 's1', '--wait', '99999'], '--wait must be a number of seconds'],
  ])('rejects %j with a clear message', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
