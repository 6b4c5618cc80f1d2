import { ArchivedConversationSchema } from '../store/conversation-store';
import { ScriptFixture } from './script-fixture';

/** condense-conversation-3: every reply branch, and what it leaves in Redis. */
describe('condenseConversation script', () => {
  const f = new ScriptFixture('condense-script');
  const { scripts } = f;
  afterAll(() => f.close());

  const msg = (role: 'system' | 'user' | 'assistant', content: string) => JSON.stringify({ role, content });

  it('ok: archives the old version, replaces the list, records version and turn offset; a re-send answers ok', async () => {
    const { taskId, token } = await f.running('cc');
    const old = [msg('system', 's'), msg('user', 'u'), msg('assistant', 'a1'), msg('user', 'nudge'), msg('assistant', 'a2')];
    await scripts.appendMessages('cc', taskId, token, { append: { expectedLength: 0, encoded: old } });
    const next = [msg('system', 's'), msg('user', 'u + summary'), msg('assistant', 'a2')];
    const args = { sessionId: 'cc', taskId, token, expectedLength: 5, expectedVersion: 0, turnOffset: 1, encoded: next };
    expect(await scripts.condenseConversation(args)).toEqual({ kind: 'ok', length: 3, version: 1 });
    expect(await f.redis.lrange(f.keys.conversation('cc', taskId), 0, -1)).toEqual(next);
    expect(await f.redis.hmget(f.keys.task('cc', taskId), 'convVersion', 'turnOffset')).toEqual(['1', '1']);
    const archive = await f.redis.lrange(f.keys.conversationArchive('cc', taskId), 0, -1);
    expect(archive).toHaveLength(1);
    const doc = ArchivedConversationSchema.parse(JSON.parse(archive[0]!));
    expect(doc).toMatchObject({ version: 0, turnOffset: 0, messages: old.map((m) => JSON.parse(m) as unknown) });
    expect(Math.abs(doc.condensedAt - Date.now())).toBeLessThan(60_000);

    // A re-send of the applied call (its reply lost): ok, nothing archived twice.
    expect(await scripts.condenseConversation(args)).toEqual({ kind: 'ok', length: 3, version: 1 });
    expect(await f.redis.llen(f.keys.conversationArchive('cc', taskId))).toBe(1);

    // The second condense archives version 1 with its offset.
    const third = [msg('system', 's'), msg('user', 'u + summary 2')];
    expect(await scripts.condenseConversation({ ...args, expectedLength: 3, expectedVersion: 1, turnOffset: 2, encoded: third })).toEqual({
      kind: 'ok',
      length: 2,
      version: 2,
    });
    const second = ArchivedConversationSchema.parse(JSON.parse((await f.redis.lindex(f.keys.conversationArchive('cc', taskId), 1))!));
    expect(second).toMatchObject({ version: 1, turnOffset: 1, messages: next.map((m) => JSON.parse(m) as unknown) });
  });

  it('lengthMismatch (length or version), staleToken: nothing changes', async () => {
    const { taskId, token } = await f.running('cc2');
    const old = [msg('system', 's'), msg('user', 'u')];
    await scripts.appendMessages('cc2', taskId, token, { append: { expectedLength: 0, encoded: old } });
    const base = { sessionId: 'cc2', taskId, token, expectedLength: 2, expectedVersion: 0, turnOffset: 0, encoded: [msg('system', 'x')] };
    expect(await scripts.condenseConversation({ ...base, expectedLength: 3 })).toEqual({ kind: 'lengthMismatch', length: 2, version: 0 });
    expect(await scripts.condenseConversation({ ...base, expectedVersion: 1 })).toEqual({ kind: 'lengthMismatch', length: 2, version: 0 });
    expect(await scripts.condenseConversation({ ...base, token: 'old' })).toEqual({ kind: 'staleToken', length: 2, version: 0 });
    expect(await f.redis.lrange(f.keys.conversation('cc2', taskId), 0, -1)).toEqual(old);
    expect(await f.redis.exists(f.keys.conversationArchive('cc2', taskId))).toBe(0);
  });

  it('the archive expires with its tree and is deleted with it', async () => {
    const { taskId, token } = await f.running('cc3');
    await scripts.appendMessages('cc3', taskId, token, { append: { expectedLength: 0, encoded: [msg('system', 's'), msg('user', 'u')] } });
    await scripts.condenseConversation({
      sessionId: 'cc3',
      taskId,
      token,
      expectedLength: 2,
      expectedVersion: 0,
      turnOffset: 0,
      encoded: [msg('system', 's')],
    });
    const archive = f.keys.conversationArchive('cc3', taskId);
    expect(await f.redis.pttl(archive)).toBe(-1);
    await scripts.transition({ sessionId: 'cc3', taskId, token, to: 'completed', fields: { result: 'r' } });
    const ttl = await f.redis.pttl(archive);
    expect(ttl).toBeGreaterThan(0);
    expect(Math.abs(ttl - (await f.redis.pttl(f.keys.conversation('cc3', taskId))))).toBeLessThan(1000);
    expect(await scripts.deleteTree('cc3', taskId)).toMatchObject({ kind: 'deleted' });
    expect(await f.redis.exists(archive)).toBe(0);
  });
});
