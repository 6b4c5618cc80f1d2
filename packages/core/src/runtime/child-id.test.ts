import { IdSchema } from '../model/task';
import { newTaskId } from '../lanes/submission';
import { MAX_DEPTH_CAP } from '../config';
import { childTaskId, MAX_TASK_ID_LENGTH } from './child-id';

/** Ids of one branch, root first, each child made with key `<turn>.<index>`. */
function branch(rootId: string, depth: number, key = (level: number) => `${level}.0`): string[] {
  const ids = [rootId];
  for (let level = 1; level <= depth; level++) ids.push(childTaskId(rootId, ids[level - 1]!, key(level)));
  return ids;
}

describe('child ids', () => {
  test('are <parentId>.<key> while that fits (the format trees created before keep)', () => {
    expect(childTaskId('t_1', 't_1', '1.0')).toBe('t_1.1.0');
    expect(childTaskId('t_1', 't_1.1.0', '2.3')).toBe('t_1.1.0.2.3');
  });

  test('stay valid ids of at most 128 characters at every depth up to the cap, for the longest root ids', () => {
    const roots = [newTaskId(), 'r', 'a'.repeat(MAX_TASK_ID_LENGTH), `${'x'.repeat(100)}.y-z_w`];
    for (const root of roots) {
      // Long keys too: the worst case grows an id by 65 characters per level.
      for (const key of [(l: number) => `${l}.0`, (l: number) => `k${l}`.padEnd(64, 'q')]) {
        const ids = branch(root, MAX_DEPTH_CAP, key);
        for (const id of ids) {
          expect(id.length).toBeLessThanOrEqual(MAX_TASK_ID_LENGTH);
          expect(IdSchema.safeParse(id).success).toBe(true);
        }
        expect(new Set(ids).size).toBe(ids.length);
      }
    }
  });

  test('are deterministic (a replayed spawn finds the same child) and keep the root id as their prefix', () => {
    const root = newTaskId();
    const a = branch(root, MAX_DEPTH_CAP);
    const b = branch(root, MAX_DEPTH_CAP);
    expect(a).toEqual(b);
    const compressed = a.filter((id) => id.includes('..'));
    expect(compressed.length).toBeGreaterThan(0);
    for (const id of compressed) expect(id.startsWith(`${root}..`)).toBe(true);
    expect(a[a.length - 1]!.split(/[.:]/)[0]).toBe(root);
  });

  test('siblings and cousins past the plain length stay distinct', () => {
    const root = newTaskId();
    const deep = branch(root, 30);
    const seen = new Set<string>();
    for (const parent of deep.slice(20)) {
      for (let turn = 1; turn <= 20; turn++) {
        for (let i = 0; i < 3; i++) seen.add(childTaskId(root, parent, `${turn}.${i}`));
      }
    }
    expect(seen.size).toBe(11 * 20 * 3);
  });

  test('refuses keys that are not dot-separated segments (they could forge the compressed form)', () => {
    for (const key of ['', '.', 'a..b', '.a', 'a.', 'a b', 'a:b', 'x'.repeat(65)]) {
      expect(() => childTaskId('r', 'r', key)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });
});
