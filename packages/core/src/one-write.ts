import { Redis } from 'ioredis';
import type { RedisClient } from './connection';

/**
 * Runs `send` with the connection's socket corked until the next tick, so
 * that the commands it sends leave in one write (one system call) instead of
 * one each: ioredis writes a command to the socket as it is called, and a
 * busy API pays for each write. Called from a promise continuation (an async
 * function after its first await), the next tick comes after the current
 * microtasks, so commands sent a few awaits later without waiting for Redis
 * (BullMQ's add) ride along; otherwise only those sent synchronously do.
 * Same bytes, same order, same connection: nothing a reply means changes.
 *
 * A cluster client sends each command to its own node's socket: there,
 * `send` runs as is.
 */
export function inOneWrite<T>(redis: RedisClient, send: () => T): T {
  if (!(redis instanceof Redis) || redis.status !== 'ready') return send();
  const socket = redis.stream;
  socket.cork();
  try {
    return send();
  } finally {
    process.nextTick(() => socket.uncork());
  }
}
