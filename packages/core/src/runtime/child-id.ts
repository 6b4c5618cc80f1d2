import { createHash } from 'node:crypto';
import { BatonError } from '../errors';

/** Longest task id the API accepts (`IdSchema`). */
export const MAX_TASK_ID_LENGTH = 128;

/**
 * A subtask key: dot-separated segments of `A-Z a-z 0-9 _ -` (the agent uses
 * `<turn>.<callIndex>`), at most 64 characters. No empty segment, so a plain
 * child id never contains `..`, the mark of a compressed one.
 */
export const SUBTASK_KEY_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
export const SUBTASK_KEY_MAX_LENGTH = 64;

/** 22 base64url characters: 132 bits of SHA-256, so distinct paths never meet in practice. */
const DIGEST_LENGTH = 22;
const COMPRESSED_MARK = '..';
const ROOT_PART_LENGTH = MAX_TASK_ID_LENGTH - COMPRESSED_MARK.length - DIGEST_LENGTH;

/**
 * The id of a parent's subtask `key`. It must be a pure function of
 * (parent, key): a parent's job re-run after a crash spawns "again" and has
 * to find the child it created the first time.
 *
 * - `<parentId>.<key>` while that fits in 128 characters (every id below
 *   depth ~23 with generated root ids, and every id created before ids were
 *   bounded, so trees in flight across an upgrade replay to the same ids);
 * - otherwise `<rootId, cut to 104>..<digest>`, the digest being 22 base64url
 *   characters of SHA-256 over the plain id. It is 128 characters at most
 *   whatever the depth, passes the routes' id check, and still starts with
 *   the root id (tooling that groups by root, e.g. by splitting on `.`, keeps
 *   working). The plain id hashed includes the parent's own (possibly
 *   compressed) id, so siblings and cousins stay distinct.
 */
export function childTaskId(rootId: string, parentId: string, key: string): string {
  if (key.length > SUBTASK_KEY_MAX_LENGTH || !SUBTASK_KEY_PATTERN.test(key)) {
    throw new BatonError(
      'INVALID_INPUT',
      `subtask key "${key.slice(0, 80)}" must be 1 to ${SUBTASK_KEY_MAX_LENGTH} characters of dot-separated A-Z a-z 0-9 _ - segments`,
      { taskId: parentId },
    );
  }
  const plain = `${parentId}.${key}`;
  if (plain.length <= MAX_TASK_ID_LENGTH) return plain;
  const digest = createHash('sha256').update(plain).digest('base64url').slice(0, DIGEST_LENGTH);
  return `${rootId.slice(0, ROOT_PART_LENGTH)}${COMPRESSED_MARK}${digest}`;
}
