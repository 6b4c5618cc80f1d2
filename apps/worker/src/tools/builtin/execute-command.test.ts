import { waitUntil } from '@baton/testkit';
import { readFileSync } from 'node:fs';
import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { COMMAND_OUTPUT_TAIL_BYTES, executeCommandTool } from './execute-command';

/** Is the process gone (or a zombie nobody reaped yet, which runs nothing)? */
function gone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

describe('execute_command', () => {
  let fx: WorkspaceFixture;
  const tool = executeCommandTool({ maxTimeoutMs: 5_000, killGraceMs: 500 });
  beforeEach(() => (fx = workspaceFixture()));
  afterEach(() => fx.cleanup());

  it('runs through /bin/sh in the workspace and returns exit code, stdout and stderr', async () => {
    await fx.write('sub/x.txt', 'hello\n');
    const out = await fx.call(tool, { command: 'pwd; cat x.txt; echo oops >&2; exit 3', cwd: 'sub' });
    const dir = await fx.workspace.resolve('sub');
    expect(out).toBe(`exit code 3\nstdout:\n${dir}\nhello\n\nstderr:\noops\n`);
    expect(await fx.call(tool, { command: 'true' })).toBe('exit code 0\nstdout: (empty)\nstderr: (empty)');
  });

  it('its files land in the workspace', async () => {
    await fx.call(tool, { command: 'mkdir -p out && echo made > out/f.txt' });
    expect(readFileSync(fx.abs('out/f.txt'), 'utf8')).toBe('made\n');
  });

  it('gets a scrubbed environment: no LLM_API_KEY, no REDIS_URL, nothing else of the worker', async () => {
    const saved = { ...process.env };
    process.env.LLM_API_KEY = 'sk-secret-key';
    process.env.REDIS_URL = 'redis://:password@redis:6379';
    process.env.AWS_SECRET_ACCESS_KEY = 'aws-secret';
    try {
      const out = await fx.call(tool, { command: 'env' });
      expect(out).not.toMatch(/sk-secret-key|password|aws-secret|LLM_API_KEY|REDIS_URL|AWS_/);
      const vars = out
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => l.split('=')[0])
        .filter((name) => name !== 'SHLVL' && name !== '_' && name !== 'OLDPWD');
      expect(vars.sort()).toEqual(['CI', 'GIT_PAGER', 'HOME', 'LANG', 'LC_ALL', 'NO_COLOR', 'PAGER', 'PATH', 'PWD', 'SHELL', 'TERM', 'TMPDIR']);
      expect(out).toContain(`HOME=${await fx.workspace.ensure()}\n`);
      expect(out).toContain('TERM=dumb\n');
    } finally {
      process.env = saved;
    }
  });

  it('on timeout the whole process group is killed (a child sleep of the shell too)', async () => {
    const started = Date.now();
    const out = await fx.call(tool, { command: 'sleep 30 & echo $!; sleep 30; echo never', timeout_ms: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(out).toMatch(/^timed out after 300 ms: killed by SIGTERM\nstdout:\n\d+\n\nstderr: \(empty\)$/);
    const child = Number(/stdout:\n(\d+)/.exec(out)![1]);
    expect(gone(child)).toBe(true);
  });

  it('SIGKILL follows when the group ignores SIGTERM', async () => {
    const out = await fx.call(tool, { command: "trap '' TERM; echo ready; while :; do sleep 0.05; done", timeout_ms: 200 });
    expect(out).toMatch(/^timed out after 200 ms: killed by SIGKILL\nstdout:\nready\n/);
  });

  it('a timeout above EXECUTE_COMMAND_MAX_TIMEOUT_MS is lowered to it', async () => {
    expect(await fx.call(tool, { command: 'true', timeout_ms: 999_999 })).toMatch(/^exit code 0 \(timeout_ms 999999 lowered to the maximum, 5000\)/);
  });

  it('the task AbortSignal kills the group, and the call throws', async () => {
    const controller = new AbortController();
    const call = fx.call(tool, { command: 'sleep 30 & echo $! > pid; wait' }, controller.signal);
    // The pid file is the command telling us it runs (no sleep in the test itself).
    const pid = await new Promise<number>((resolve) => {
      const look = () => {
        const text = (() => {
          try {
            return readFileSync(fx.abs('pid'), 'utf8');
          } catch {
            return '';
          }
        })();
        if (text.endsWith('\n')) resolve(Number(text));
        else setImmediate(look);
      };
      look();
    });
    expect(gone(pid)).toBe(false);
    controller.abort(new Error('task cancelled'));
    await expect(call).rejects.toThrow('task cancelled');
    expect(gone(pid)).toBe(true);
  });

  it('background children do not outlive a command that exits', async () => {
    const out = await fx.call(tool, { command: 'sleep 30 >/dev/null 2>&1 & echo $!' });
    expect(out).toMatch(/^exit code 0\n/);
    const pid = Number(/stdout:\n(\d+)/.exec(out)![1]);
    // SIGKILL is sent when the shell exits; its delivery is asynchronous (and the sleep shares no pipe to wait on).
    await waitUntil(() => gone(pid), 5_000);
  });

  it(`keeps the last ${COMMAND_OUTPUT_TAIL_BYTES / 1024} KiB of stdout and stderr and says how much was cut`, async () => {
    // 200,000 bytes: 1000001..1025000 one per line (8 bytes each).
    const out = await fx.call(tool, { command: 'seq 1000001 1025000; seq 1 3 >&2' });
    expect(out).toMatch(/^exit code 0\nstdout \(last 64 KiB of 195 KiB; the first 131 KiB were cut\):\n/);
    const stdout = out.split('\n').slice(2, -6);
    expect(stdout.at(-1)).toBe('1025000');
    expect(Buffer.byteLength(stdout.join('\n')) + 1).toBeLessThanOrEqual(COMMAND_OUTPUT_TAIL_BYTES);
    expect(out.endsWith('\nstderr:\n1\n2\n3\n')).toBe(true);
  });

  it('a missing cwd and a file as cwd are errors', async () => {
    await fx.write('f.txt', '');
    await expect(fx.call(tool, { command: 'true', cwd: 'nope' })).rejects.toThrow('cwd "nope" is not a folder of the workspace');
    await expect(fx.call(tool, { command: 'true', cwd: 'f.txt' })).rejects.toThrow('cwd "f.txt" is not a folder of the workspace');
  });
});
