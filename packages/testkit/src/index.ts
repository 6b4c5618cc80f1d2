/** Test kit shared by every package's tests: real Redis helpers, barriers, fake provider. */
export { REDIS_URL, ON_CLUSTER, testPrefix, cleanupPrefix, deferred, barrier, waitUntil, type Deferred } from './redis';
export { RedisServer, freePort, tempDir, waitForRedis } from './redis-server';
export {
  startFakeProvider,
  sessionOfRequest,
  scriptedReply,
  streamCutOf,
  splitText,
  chatCompletion,
  toolCall,
  type FakeProvider,
  type FakeProviderOptions,
  type FakeProviderStats,
  type FakePolicy,
  type FakeReply,
  type FakeRequest,
  type ChatRequestBody,
  type ChatMessage,
  type FakeToolCall,
  type FakeStreamCut,
} from './fake-provider';
export {
  REPO_ROOT,
  API_MAIN,
  WORKER_MAIN,
  CLI_MAIN,
  BatonProcess,
  startProcess,
  startApi,
  startWorker,
  ensureBuilt,
  spawnScript,
  runScript,
  type ApiProcess,
  type ExitStatus,
  type LogEntry,
  type ReadyWhen,
  type StartOptions,
  type ScriptResult,
  type RunningScript,
} from './processes';
export { rateLimitedPolicy, type RateLimitedPolicy, type RateLimitedPolicyOptions } from './fake-rate-limit';
