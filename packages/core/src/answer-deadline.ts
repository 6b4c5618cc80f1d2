/**
 * A whole request's time budget against Redis. The client's command timeout
 * bounds one command; a request that runs several in a row (rate limit,
 * submit script, job add) would otherwise answer after several timeouts when
 * Redis is frozen. The API gives each request one budget, from its arrival:
 * the commands after the first get what is left of it.
 */
export class DeadlineExceededError extends Error {
  constructor(what: string) {
    super(`${what}: no answer from Redis within the request's time budget`);
    this.name = 'DeadlineExceededError';
  }
}

/**
 * Settles like `work`, or rejects with DeadlineExceededError at `answerBy`
 * (epoch ms), whichever comes first. `work` keeps running: the command may
 * still reach Redis, so a caller treats the error as "outcome unknown".
 */
export function beforeDeadline<T>(work: Promise<T>, answerBy: number, what: string): Promise<T> {
  if (!Number.isFinite(answerBy)) return work;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(what)), Math.max(0, answerBy - Date.now()));
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
