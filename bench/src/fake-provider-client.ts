/** The fake provider running in its own process (see fake-provider-process.ts). */
import { BenchChild } from './child-process';
import type { FakeStatsSummary } from './fake-provider-process';

export type { FakeStatsSummary };

export class RemoteFakeProvider {
  private constructor(private readonly child: BenchChild<{ url: string }>) {}

  static async start(latencyMs = 0): Promise<RemoteFakeProvider> {
    return new RemoteFakeProvider(await BenchChild.start<{ url: string }>('fake-provider-process', { FAKE_LATENCY_MS: String(latencyMs) }));
  }

  get url(): string {
    return this.child.ready.url;
  }

  stats(): Promise<FakeStatsSummary> {
    return this.child.request<FakeStatsSummary>('stats');
  }

  async reset(): Promise<void> {
    await this.child.request('reset');
  }

  close(): Promise<void> {
    return this.child.stop();
  }
}
