/**
 * The summary request's prompt, after KiloCode's "condense context"
 * (src/core/condense, SUMMARY_PROMPT): a detailed summary of the user's
 * requests and the assistant's actions, in fixed sections, thorough enough to
 * carry on the task from it alone. Paraphrased, not copied.
 */
export const CONDENSE_SYSTEM_PROMPT = `You summarize a conversation between a user and an AI agent so that the agent can carry on its task from your summary alone, without the messages it replaces.

Pay close attention to the user's explicit requests and to what the agent has already done. Capture the technical details, code patterns, decisions and results the agent will need to continue.

Structure the summary as follows:
1. Previous conversation: what was asked and discussed, at a high level.
2. Current work: what the agent was doing just before this summary, in detail.
3. Key technical concepts: technologies, conventions and constraints that matter.
4. Relevant files and code: files read, created or changed, with the snippets and changes that matter and why.
5. Problem solving: problems solved and troubleshooting still under way.
6. Pending tasks and next steps: work that remains, and the next step in the agent's own words where it helps (quote the latest request verbatim when it is not finished).

Answer with the summary only: no tool calls, no preamble.`;

/** The user message that ends the summary request. */
export const CONDENSE_REQUEST = 'Summarize the conversation so far, as the system prompt describes. Answer with the summary text only; do not call any tool.';
