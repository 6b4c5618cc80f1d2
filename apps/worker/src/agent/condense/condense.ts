import { isBatonError, TaskFailure, type ConversationVersion, type Message, type TaskContext, type UsageConfig } from '@baton/core';
import type { Logger } from 'pino';
import type { WorkerMetrics } from '../../metrics';
import { ModelResponseSchema, ProviderError, type ModelProvider } from '../../providers/model-provider';
import type { OpenAiTool } from '../../tools/tool-registry';
import { condensedConversation, findCut, nextTurnOffset, summaryRequestMessages } from './condense-plan';
import type { ContextWindows } from './context-windows';
import { estimateTokens } from './token-estimate';
import { meteringFor } from '../usage-metering';

export interface CondenseOptions {
  windows: ContextWindows;
  /** Messages kept verbatim after the summary, at least (moved back to a turn start; CONDENSE_KEEP_MESSAGES). */
  keepMessages: number;
}

/** Where the live conversation stands: its messages and their version. */
export interface LiveConversation {
  messages: Message[];
  version: ConversationVersion;
}

/**
 * Context condensing, as KiloCode's "condense context": before a turn whose
 * conversation is estimated past its model's threshold (or after the
 * provider refused a turn as too long), the older turns become a summary.
 *
 * 1. The summary is a model request of its own through the request gate,
 *    key `<taskId>:condense:<n>` (n: the version it makes, 1 for the first
 *    condense), so a crash replays it from the gate (committed) or asks again
 *    under the same key, and it never shares a key with a turn.
 *    With usage configured, it is metered as a turn is (budgets checked and
 *    reserved before, usage and cost recorded once after, rolled up to the
 *    tree, session, tenant and model) under that same key.
 * 2. The conversation is replaced in one fenced compare-and-set script
 *    (condense-conversation-3): the old version goes to the archive (for the
 *    export), the task hash gets the new version and turn offset.
 * A crash between 1 and 2 re-runs the loop from the old conversation: same
 * cut, same n, the gate answers with the committed summary, no second call.
 */
export class Condenser {
  constructor(
    private readonly ctx: TaskContext,
    private readonly provider: ModelProvider,
    private readonly options: CondenseOptions,
    private readonly metrics?: WorkerMetrics,
    private readonly usage?: UsageConfig,
  ) {}

  /** True when `messages` pass the threshold of `model` and something can be condensed. */
  due(model: string, messages: readonly Message[]): boolean {
    return estimateTokens(messages) > this.options.windows.thresholdOf(model) && findCut(messages, this.options.keepMessages) !== undefined;
  }

  /**
   * Condenses `live` (model and tools: those of the turn about to be asked).
   * Returns the new live conversation, or undefined when nothing can be
   * condensed.
   */
  async condense(live: LiveConversation, model: string, tools: readonly OpenAiTool[], log: Logger): Promise<LiveConversation | undefined> {
    const { ctx } = this;
    const cut = findCut(live.messages, this.options.keepMessages);
    if (cut === undefined) return undefined;
    const n = live.version.version + 1;
    const name = `condense:${n}`;
    const request = { model, messages: summaryRequestMessages(live.messages, cut), tools };
    const before = estimateTokens(live.messages);
    let summary: string;
    try {
      const { response, outcome } = await ctx.gateRequest(
        name,
        (signal, idempotencyKey) => {
          // No onDelta: a summary is bookkeeping, not a message anyone reads live (no message.delta events).
          const call = () => this.provider.complete(request, { signal, idempotencyKey, sessionId: ctx.sessionId, logger: log });
          return this.metrics ? this.metrics.track(ctx.sessionId, call) : call();
        },
        this.usage && meteringFor(this.usage, request),
      );
      const parsed = ModelResponseSchema.safeParse(response);
      if (!parsed.success) throw new TaskFailure('MODEL_ERROR', `stored summary of ${name} is malformed: ${parsed.error.message}`);
      summary = parsed.data.message.content?.trim() ?? '';
      log.info({ condense: n, outcome }, 'condense summary');
    } catch (err) {
      if (err instanceof ProviderError) throw new TaskFailure('MODEL_ERROR', `context condensing failed: ${err.message}`);
      if (isBatonError(err, 'STALE_RUNNER')) this.metrics?.gate('refused_stale');
      throw err;
    }
    if (!summary) throw new TaskFailure('MODEL_ERROR', `context condensing failed: the model answered ${name} without a summary`);

    const messages = condensedConversation(live.messages, cut, summary, n);
    const turnOffset = nextTurnOffset(live.version.turnOffset, live.messages, messages);
    await ctx.condenseConversation({ length: live.messages.length, version: live.version.version }, turnOffset, messages);
    log.info(
      { condense: n, tokensBefore: before, tokensAfter: estimateTokens(messages), kept: live.messages.length - cut, turnOffset },
      'conversation condensed',
    );
    return { messages, version: { version: n, turnOffset } };
  }
}
