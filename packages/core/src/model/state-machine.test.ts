import { Writable } from 'node:stream';
import pino from 'pino';
import { cleanupPrefix, REDIS_URL, testPrefix } from '@baton/testkit';
import { Engine } from '../engine';
import { Keys } from '../keys';
import { IllegalTransitionError } from './state-machine';
import { isTerminal, TASK_STATUSES, taskMachine, TERMINAL_STATUSES } from './task';

describe('state machines as data', () => {
  it('terminal task states are final: no transition leaves them', () => {
    for (const from of TERMINAL_STATUSES) {
      for (const to of TASK_STATUSES) expect(taskMachine.canTransition(from, to)).toBe(false);
      expect(isTerminal(from)).toBe(true);
    }
  });

  it('refuses an illegal transition by throwing, and says which', () => {
    expect(() => taskMachine.transition('completed', 'running')).toThrow(IllegalTransitionError);
    expect(() => taskMachine.transition('queued', 'waiting')).toThrow('task: illegal transition queued -> waiting');
    expect(taskMachine.transition('waiting', 'running')).toBe('running');
  });

  it('derives the guard the scripts receive from the table', () => {
    expect(taskMachine.sourcesOf('running').sort()).toEqual(['awaiting_input', 'paused', 'queued', 'running', 'waiting']);
    expect(taskMachine.sourcesOf('awaiting_input')).toEqual(['running']);
    expect(taskMachine.sourcesOf('waiting')).toEqual(['running']);
  });

  it('an illegal transition in Redis is refused and logged, never applied', async () => {
    const prefix = testPrefix('sm');
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) }));
    const engine = new Engine(REDIS_URL, { prefix }, logger);
    try {
      const { task } = await engine.submit({ sessionId: 's', prompt: 'p' });
      // queued -> waiting is not in the table.
      await expect(engine.tasks.transition({ sessionId: 's', taskId: task.id, to: 'waiting' })).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
      });
      expect((await engine.getTask(task.id))!.status).toBe('queued');
      expect(lines.some((l) => l.includes('"to":"waiting"') && l.includes('"from":"queued"'))).toBe(true);
      // A terminal task stays terminal.
      await engine.cancel(task.id);
      await expect(engine.tasks.transition({ sessionId: 's', taskId: task.id, to: 'running' })).rejects.toMatchObject({
        code: 'ILLEGAL_TRANSITION',
      });
      expect((await engine.getTask(task.id))!.status).toBe('cancelled');
    } finally {
      await engine.close();
      await cleanupPrefix(prefix);
    }
  });
});

describe('keys', () => {
  it('hash-tags every key of a session with the session, and the queue prefix with the prefix', () => {
    const k = new Keys('bx');
    const slotTag = (key: string) => /\{([^}]*)\}/.exec(key)?.[1];
    for (const key of [
      k.session('s1'),
      k.lane('s1'),
      k.active('s1'),
      k.task('s1', 't'),
      k.conversation('s1', 't'),
      k.gate('s1', 't'),
      k.events('s1'),
      k.idempotency('s1', 'ten', 'k'),
    ]) {
      expect(slotTag(key)).toBe('s:s1');
      expect(key.startsWith('bx:')).toBe(true);
    }
    expect(k.queuePrefix).toBe('{bx}');
    expect(() => new Keys('bad prefix')).toThrow('invalid key prefix');
  });
});
