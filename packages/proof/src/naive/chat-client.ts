/**
 * A minimal OpenAI-compatible chat client for the naive orchestrator: one
 * `POST /chat/completions` per call over node:http with a keep-alive agent,
 * the same headers Baton's worker sends (`Idempotency-Key`,
 * `X-Baton-Session-Id`), no retries. Only what the "before" needs.
 */
import { Agent, request } from 'node:http';
import type { ChatMessage, ChatRequestBody } from '@baton/testkit';

export interface ChatCall {
  sessionId: string;
  idempotencyKey: string;
  body: ChatRequestBody;
}

export class ChatClient {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });

  constructor(private readonly baseUrl: string) {}

  /** The assistant message of the first choice; throws on a non-2xx status. */
  complete(call: ChatCall): Promise<ChatMessage> {
    const url = new URL(`${this.baseUrl}/chat/completions`);
    const payload = JSON.stringify(call.body);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
            'idempotency-key': call.idempotencyKey,
            'x-baton-session-id': call.sessionId,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if ((res.statusCode ?? 500) >= 300) return reject(new Error(`provider answered ${res.statusCode}: ${text}`));
            try {
              const parsed = JSON.parse(text) as { choices: { message: ChatMessage }[] };
              resolve(parsed.choices[0]!.message);
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
