/** Test kit shared by every package's tests: real Redis helpers, barriers, fake provider. */
export { REDIS_URL, testPrefix, cleanupPrefix, deferred, barrier, waitUntil, type Deferred } from './redis';
export {
  startFakeProvider,
  sessionOfRequest,
  scriptedReply,
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
} from './fake-provider';
