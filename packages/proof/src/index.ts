/** Public API of @baton/proof: the naive orchestrator (the "before"), for the suites and the benchmarks. */
export { NaiveSession, type NaiveTask, type NaiveSessionOptions, type NaiveSessionEvents } from './naive/naive-orchestrator';
export { ChatClient, type ChatCall } from './naive/chat-client';
