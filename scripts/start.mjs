// `pnpm start`: runs Baton without Docker — one API and one worker process against
// REDIS_URL (default redis://127.0.0.1:6379). If nothing answers there and
// `redis-server` is on the PATH, starts a throwaway one on that port first.
// Ctrl-C stops everything (SIGTERM to each child: graceful shutdown).
import { spawn, spawnSync } from 'node:child_process';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const env = { ...process.env, REDIS_URL };
const children = [];

function ping() {
  return spawnSync(process.execPath, ['scripts/redis-ping.mjs', REDIS_URL]).status === 0;
}

function run(name, args, color) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = `\x1b[${color}m${name.padEnd(6)}\x1b[0m|`;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream.on('data', (chunk) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) console.log(tag, line);
    });
  }
  child.on('exit', (code, signal) => {
    console.log(tag, `exited (${signal ?? code})`);
    if (!stopping) stop(1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code = 0) {
  if (stopping) {
    for (const c of children) c.kill('SIGKILL');
    process.exit(code);
  }
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  Promise.all(children.map((c) => (c.exitCode !== null ? null : new Promise((r) => c.on('exit', r))))).then(() => process.exit(code));
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

if (!ping()) {
  const port = new URL(REDIS_URL).port || '6379';
  console.log(`no Redis at ${REDIS_URL}; starting redis-server on port ${port} (in memory, stops with Baton)`);
  const redis = spawn('redis-server', ['--port', port, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  redis.on('error', (err) => {
    console.error(`could not start redis-server (${err.message}); install Redis or set REDIS_URL`);
    process.exit(1);
  });
  children.push(redis);
  for (let i = 0; i < 50 && !ping(); i++) await new Promise((r) => setTimeout(r, 100));
}

run('api', ['apps/api/dist/main.js'], '36');
run('worker', ['apps/worker/dist/main.js'], '33');
console.log(`Baton: API on http://127.0.0.1:${env.PORT ?? 3000} (docs at /docs), worker running; Ctrl-C stops.`);
