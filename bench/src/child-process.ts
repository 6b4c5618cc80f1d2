/** Forks a bench entry (`dist/<name>.js`) and talks to it over IPC with request ids. */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export class BenchChild<Ready extends object = object> {
  private seq = 0;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(
    readonly child: ChildProcess,
    readonly ready: Ready,
  ) {
    child.on('message', (msg: { id?: number; result?: unknown }) => {
      if (msg.id === undefined) return;
      this.pending.get(msg.id)?.(msg.result);
      this.pending.delete(msg.id);
    });
  }

  static async start<R extends object>(entry: string, env: Record<string, string> = {}, args: string[] = []): Promise<BenchChild<R>> {
    const child = fork(join(__dirname, `${entry}.js`), args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = await new Promise<R>((resolve, reject) => {
      const onMessage = (msg: { ready?: boolean }) => {
        if (!msg.ready) return;
        child.off('message', onMessage);
        resolve(msg as R);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`${entry} exited with ${code} before it was ready`)));
    });
    return new BenchChild<R>(child, ready);
  }

  request<T>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve) => {
      this.pending.set(id, resolve as (r: unknown) => void);
      this.child.send({ id, cmd, ...extra });
    });
  }

  /** Disconnects (the child exits on disconnect) and waits for the exit; kills it after 5 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
