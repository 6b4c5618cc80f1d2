// `pnpm start`: runs Baton without Docker — one API and one worker process against
// REDIS_URL (default redis://127.0.0.1:6379). If nothing answers there and
// `redis-server` is on the PATH, starts a throwaway one on that port first.
// Ctrl-C stops everything (SIGTERM to each child: graceful shutdown).
// The API listens on 127.0.0.1 (unless HOST is set) and needs a key: without
// API_KEYS (and without API_AUTH=none) one is generated for this run and printed.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const env = { ...process.env, REDIS_URL, HOST: process.env.HOST || '127.0.0.1' };
const generatedKey = !env.API_KEYS && env.API_AUTH !== 'none' ? randomBytes(32).toString('hex') : null;
if (generatedKey) env.API_KEYS = `local:${generatedKey}`;
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
const url = `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT ?? 3000}`;
console.log(`Baton: API on ${url} (docs at /docs), worker running; Ctrl-C stops.`);
if (generatedKey) {
  console.log(`API key for this run (tenant "local"; set API_KEYS to choose your own):`);
  console.log(`  export BATON_URL=${url} BATON_API_KEY=${generatedKey}`);
  console.log(`  curl -H "Authorization: Bearer $BATON_API_KEY" -H 'content-type: application/json' -d '{"prompt":"hello"}' $BATON_URL/v1/sessions/demo/tasks`);
}
