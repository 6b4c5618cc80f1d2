import { Engine, type Message } from '@baton/core';
import { chatCompletion, testPrefix, toolCall, type FakeProvider } from '@baton/testkit';
import { join } from 'node:path';
import { jobEnded, startFakeWorker, startTestWorker, type FakeWorker } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';
import { loadToolsModule } from './tools-module';

const fixture = (name: string) => join(__dirname, 'test-fixtures', name);

describe('TOOLS_MODULE', () => {
  it('loads `tools` or a default export, and names the module and each problem otherwise', async () => {
    expect((await loadToolsModule(fixture('tools-module.cjs'))).map((t) => [t.name, t.group])).toEqual([['shout', 'read']]);
    expect((await loadToolsModule(fixture('default-export.cjs'))).map((t) => t.name)).toEqual(['ping']);
    await expect(loadToolsModule(fixture('invalid-tools.cjs'))).rejects.toThrow(
      /^TOOLS_MODULE .*invalid-tools\.cjs exports invalid tools:\n✖ tool names are .*\n {2}→ at \[0\]\.name\n✖ schema must be a zod schema.*\n {2}→ at \[0\]\.schema\n✖ handler must be a function\n {2}→ at \[1\]\.handler$/,
    );
    await expect(loadToolsModule(fixture('missing.cjs'))).rejects.toThrow(/^TOOLS_MODULE .*missing\.cjs cannot be imported: /);
    await expect(loadToolsModule('node:path')).rejects.toThrow(/exports no tools: use `export default \[\.\.\.\]` or `export const tools = \[\.\.\.\]`/);
  });

  describe('in a worker', () => {
    const prefix = testPrefix('toolsmod');
    let fake: FakeProvider;
    let stack: FakeWorker;
    let app: WorkerApp;
    let engine: Engine;

    beforeAll(async () => {
      stack = await startFakeWorker({ prefix, env: { TOOLS_MODULE: fixture('tools-module.cjs') } });
      ({ fake, app, engine } = stack);
      fake.setPolicy((req) => {
        const turn = (req.body.messages ?? []).filter((m) => m.role === 'assistant').length + 1;
        if (turn === 1) return { body: chatCompletion({ toolCalls: [toolCall('c1', 'shout', { text: 'hello' })] }) };
        const answer = req.body.messages?.at(-1)?.content;
        return { body: chatCompletion({ toolCalls: [toolCall('c2', 'attempt_completion', { result: String(answer) })] }) };
      });
    });
    afterAll(() => stack?.close());

    it("offers the module's tools by group and runs them", async () => {
      const ended = jobEnded(app, 'tm-1');
      await engine.submit({ sessionId: 's-tm', taskId: 'tm-1', prompt: 'shout hello', mode: 'ask' });
      await ended;
      expect(await engine.getTask('tm-1')).toMatchObject({ status: 'completed', result: 'HELLO' });
      expect(fake.requests[0]!.body.tools?.map((t) => t.function.name)).toContain('shout');
      const messages = (await engine.getMessages('tm-1')) as Message[];
      expect(messages.find((m) => m.role === 'tool')).toMatchObject({ content: 'HELLO' });
    });

    it('a worker refuses to start with an invalid module', async () => {
      await expect(startTestWorker({ prefix, env: { TOOLS_MODULE: fixture('invalid-tools.cjs') } })).rejects.toThrow(/TOOLS_MODULE .* exports invalid tools/);
    });
  });
});
