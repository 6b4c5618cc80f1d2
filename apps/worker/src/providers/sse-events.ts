import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Turns raw `text/event-stream` text, split anywhere (a piece may end inside
 * a line or a multi-byte character's neighbour), into whole events, in order.
 * Whatever `onEvent` throws leaves `feed` at once: the reader gives up there.
 */
export function sseFeed(onEvent: (event: EventSourceMessage) => void): (text: string) => void {
  const parser = createParser({ onEvent });
  return (text) => parser.feed(text);
}

/** `value` parsed as JSON, or MalformedStream-worthy text saying where. */
export function parseEventJson(data: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch {
    return { ok: false, problem: `not JSON: ${data.slice(0, 200)}` };
  }
}
