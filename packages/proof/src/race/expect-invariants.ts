/** The assertions every race scenario ends with (see support/invariants.ts). */
import { checkInvariants, type InvariantOptions, type InvariantReport } from '../support/invariants';
import type { BatonStack } from '../support/baton-stack';

export async function expectInvariants(stack: BatonStack, rootIds: string[], options: InvariantOptions = {}): Promise<InvariantReport> {
  const report = await checkInvariants(stack.client, stack.fake, rootIds, options);
  expect({
    maxInFlightPerSession: report.maxInFlightPerSession,
    repeatedKeys: report.repeatedKeys,
    conversationProblems: report.conversationProblems,
    turnMismatches: report.turnMismatches,
  }).toEqual({ maxInFlightPerSession: 1, repeatedKeys: {}, conversationProblems: {}, turnMismatches: [] });
  return report;
}
