import type { OpenAiTool } from './tool-registry';

/**
 * The JSON text of a tool list. A frozen list (a mode's offered tools, see
 * prompt/offered-tools) is the same for every turn of every task in that
 * mode, so its text is kept rather than serialized again for each request
 * body and each budget estimate.
 */
const kept = new WeakMap<readonly OpenAiTool[], string>();

export function toolsJson(tools: readonly OpenAiTool[]): string {
  let json = kept.get(tools);
  if (json === undefined) {
    json = JSON.stringify(tools);
    if (Object.isFrozen(tools)) kept.set(tools, json);
  }
  return json;
}
