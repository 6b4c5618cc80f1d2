/**
 * A steady stream of submissions over raw HTTP (fetch), each one recorded
 * with its status, latency and problem, so a run can judge every single
 * answer: what the API said while Redis was down, full or frozen.
 */

export interface SubmitRecord {
  seq: number;
  sessionId: string;
  prompt: string;
  /** HTTP status, or 0 when no answer came (network error or the client's own deadline). */
  status: number;
  ms: number;
  /** Date.now() when the request was sent. */
  sentAt: number;
  contentType: string;
  retryAfter: string | null;
  /** The task id (201), or the one a 503 with `outcome: unknown` names. */
  taskId: string | null;
  code: string | null;
  reason: string | null;
  outcome: string | null;
  error?: string;
}

export interface SubmitLoadOptions {
  apiUrl: string;
  apiKey: string;
  /** Concurrent submitters. */
  clients: number;
  /** Pause between two submissions of one submitter (pacing of the scenario). */
  gapMs: number;
  /** A request unanswered after this long counts as hung (status 0). */
  deadlineMs: number;
  /** Prompt prefix; each prompt is unique (`<prefix> <seq>`), so a refused one can be looked for later. */
  prefix: string;
  /** Bytes of padding appended to every prompt (memory pressure). */
  padding?: number;
}

export class SubmitLoad {
  readonly records: SubmitRecord[] = [];
  private seq = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private readonly waiters: { count: number; resolve(): void }[] = [];

  constructor(private readonly options: SubmitLoadOptions) {}

  get accepted(): number {
    return this.records.filter((r) => r.status === 201).length;
  }

  start(): this {
    this.loops = Array.from({ length: this.options.clients }, () => this.loop());
    return this;
  }

  /** Resolves once `more` submissions past the current count were accepted (201). */
  acceptedMore(more: number): Promise<void> {
    const count = this.accepted + more;
    return new Promise((resolve) => {
      this.waiters.push({ count, resolve });
      this.notify();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /** One submission, recorded. */
  async submitOnce(): Promise<SubmitRecord> {
    const seq = this.seq++;
    const sessionId = `${this.options.prefix}-s${seq}`;
    const prompt = `${this.options.prefix} ${seq}${this.options.padding ? ` ${'x'.repeat(this.options.padding)}` : ''}`;
    const started = Date.now();
    const record: SubmitRecord = {
      seq,
      sessionId,
      prompt,
      status: 0,
      ms: 0,
      sentAt: started,
      contentType: '',
      retryAfter: null,
      taskId: null,
      code: null,
      reason: null,
      outcome: null,
    };
    try {
      const res = await fetch(`${this.options.apiUrl}/v1/sessions/${sessionId}/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt }),
        signal: AbortSignal.timeout(this.options.deadlineMs),
      });
      const body = (await res.json()) as Record<string, unknown>;
      record.status = res.status;
      record.contentType = res.headers.get('content-type') ?? '';
      record.retryAfter = res.headers.get('retry-after');
      const str = (v: unknown) => (typeof v === 'string' ? v : null);
      record.taskId = str(res.status === 201 ? body.id : body.taskId);
      record.code = str(body.code);
      record.reason = str(body.reason);
      record.outcome = str(body.outcome);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
    }
    record.ms = Date.now() - started;
    this.records.push(record);
    this.notify();
    return record;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      await this.submitOnce();
      await new Promise((r) => setTimeout(r, this.options.gapMs));
    }
  }

  private notify(): void {
    const accepted = this.accepted;
    for (const w of this.waiters.filter((w) => accepted >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
  }
}

/** A 503 that says what a client needs: problem+json, a Retry-After, a Redis problem code. */
export function isProperRefusal(r: SubmitRecord): boolean {
  return (
    r.status === 503 &&
    r.contentType.startsWith('application/problem+json') &&
    r.retryAfter !== null &&
    Number(r.retryAfter) > 0 &&
    (r.code === 'REDIS_UNAVAILABLE' || r.code === 'REDIS_FULL')
  );
}
