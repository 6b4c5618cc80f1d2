import { Engine, isTerminal } from '@baton/core';
import {
  BatonProcess,
  chatCompletion,
  cleanupPrefix,
  ensureBuilt,
  REDIS_URL,
  startFakeProvider,
  startProcess,
  testPrefix,
  toolCall,
  waitUntil,
  WORKER_MAIN,
  type FakeProvider,
} from '@baton/testkit';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

/** TOOLS_MODULE in a real worker process (`node dist/main.js`), as the Docker image loads a mounted file. */
describe('TOOLS_MODULE in a worker process', () => {
  const prefix = testPrefix('toolsproc');
  let fake: FakeProvider | undefined;
  let proc: BatonProcess | undefined;
  let engine: Engine | undefined;

  beforeAll(() => ensureBuilt(WORKER_MAIN, resolve(__dirname, '../..')));
  afterAll(async () => {
    await proc?.kill('SIGKILL');
    await engine?.close();
    await fake?.close();
    await cleanupPrefix(prefix);
  });

  it('main.ts imports an ES module of tools and the model calls one', async () => {
    fake = await startFakeProvider({ apiKey: 'sk-proc' });
    fake.setPolicy((req) => {
      const turn = (req.body.messages ?? []).filter((m) => m.role === 'assistant').length + 1;
      if (turn === 1) return { body: chatCompletion({ toolCalls: [toolCall('c1', 'reverse', { text: 'baton' })] }) };
      return { body: chatCompletion({ toolCalls: [toolCall('c2', 'attempt_completion', { result: String(req.body.messages?.at(-1)?.content) })] }) };
    });
    proc = await startProcess('worker', WORKER_MAIN, {
      env: { BATON_PREFIX: prefix, LLM_BASE_URL: fake.url, LLM_API_KEY: 'sk-proc', TOOLS_MODULE: join(__dirname, 'test-fixtures', 'tools-module.mjs') },
      ready: (entry) => entry.msg === 'worker ready',
    });
    engine = new Engine(REDIS_URL, { prefix });
    await engine.submit({ sessionId: 's-proc', taskId: 'proc-1', prompt: 'reverse baton', mode: 'ask' });
    await waitUntil(async () => {
      const t = await engine!.getTask('proc-1');
      return !!t && isTerminal(t.status);
    }, 30_000);
    expect(await engine.getTask('proc-1')).toMatchObject({ status: 'completed', result: 'notab' });
  });

  it('a module exporting invalid tools stops the process with exit code 1 and names the module', () => {
    const module = join(__dirname, 'test-fixtures', 'invalid-tools.cjs');
    const r = spawnSync(process.execPath, [WORKER_MAIN], {
      env: { PATH: process.env.PATH ?? '', REDIS_URL, BATON_PREFIX: prefix, TOOLS_MODULE: module, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`TOOLS_MODULE ${module} exports invalid tools:`);
    expect(r.stderr).toContain('✖ handler must be a function\n  → at [1].handler');
  });
});
