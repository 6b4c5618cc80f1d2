import { createParser, type EventSourceMessage } from 'eventsource-parser';

/**
 * Turns raw `text/event-stream` text, split anywhere (a piece may end in the
 * middle of a line), into whole events, in order. Whatever `onEvent` throws
 * leaves `feed` at once: the stream is abandoned there.
 */
export function sseFeed(onEvent: (event: EventSourceMessage) => void): (text: string) => void {
  const parser = createParser({ onEvent });
  return (text) => parser.feed(text);
}

/** An event's data parsed as JSON, or the problem in words (for a MalformedStream message). */
export function parseEventJson(data: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  try {
    return { ok: true, value: JSON.parse(data) };
  } catch {
    return { ok: false, problem: `not JSON: ${data.slice(0, 200)}` };
  }
}
