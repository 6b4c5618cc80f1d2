/** Which cap refused a stream. */
export type StreamCapScope = 'process' | 'tenant';

/**
 * Caps on open event streams, per API process and per tenant (each stream
 * costs a socket, buffers and a place in every hub read). `acquire` is
 * synchronous, so a check and its count cannot be split by another request.
 */
export class StreamCaps {
  private total = 0;
  private readonly perTenant = new Map<string, number>();

  constructor(
    readonly maxStreams: number,
    readonly maxPerTenant: number,
  ) {}

  get open(): number {
    return this.total;
  }

  openFor(tenant: string): number {
    return this.perTenant.get(tenant) ?? 0;
  }

  /** A release function (idempotent), or the scope of the cap that is full. */
  acquire(tenant: string): (() => void) | StreamCapScope {
    if (this.total >= this.maxStreams) return 'process';
    const mine = this.perTenant.get(tenant) ?? 0;
    if (mine >= this.maxPerTenant) return 'tenant';
    this.total++;
    this.perTenant.set(tenant, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perTenant.get(tenant) ?? 1) - 1;
      if (left === 0) this.perTenant.delete(tenant);
      else this.perTenant.set(tenant, left);
    };
  }
}
