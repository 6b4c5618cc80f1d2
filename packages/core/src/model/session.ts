import { z } from 'zod';
import { StateMachine } from './state-machine';

/**
 * Session states.
 * - idle:    no root tree holds the lease; the lane is empty.
 * - running: at least one root tree holds the lease (or waits in the lane).
 * - paused:  nothing is dispatched; running tasks park at their next turn boundary.
 */
export const SessionStatus = { idle: 'idle', running: 'running', paused: 'paused' } as const;
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus];
export const SessionStatusSchema = z.enum(['idle', 'running', 'paused']);

export const sessionMachine = new StateMachine<SessionStatus>('session', {
  idle: ['running', 'paused'],
  running: ['idle', 'paused'],
  paused: ['idle', 'running'],
});

export const SessionSchema = z.object({
  id: z.string(),
  status: SessionStatusSchema,
  activeTaskId: z.string().nullable(),
  activeTaskIds: z.array(z.string()),
  queuedTaskIds: z.array(z.string()),
});
export type Session = z.infer<typeof SessionSchema>;
