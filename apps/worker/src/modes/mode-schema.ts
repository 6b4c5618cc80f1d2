import { z } from 'zod';

/**
 * The shape of a mode, as KiloCode's custom modes file writes it
 * (`slug`, `name`, `roleDefinition`, `whenToUse`, `customInstructions`,
 * `groups`), plus Baton's `model`, `approval` and `tools`.
 *
 * Today's older Baton format (`{name, systemPrompt, model?, tools}`) is still
 * read and mapped (see `legacyToMode`): its `tools` stay the exact list
 * offered, with no always-on tools added, so existing modes files keep
 * behaving as they did.
 */

export const TOOL_GROUPS = ['read', 'edit', 'command', 'mcp'] as const;
export type ToolGroup = (typeof TOOL_GROUPS)[number];
export const ToolGroupSchema = z.enum(TOOL_GROUPS, { error: `groups are ${TOOL_GROUPS.join(', ')}` });

/** The model APIs a worker speaks (LLM_PROVIDER, and a mode's `provider`). */
export const PROVIDER_KINDS = ['openai', 'anthropic', 'demo'] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];
export const ProviderKindSchema = z.enum(PROVIDER_KINDS, { error: `provider is one of ${PROVIDER_KINDS.join(', ')}` });

/** Slugs reach Redis keys, job data and child ids: no dots, so an id never looks like a path of subtasks. */
export const MODE_SLUG_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ModeSlugSchema = z.string().regex(MODE_SLUG_PATTERN, 'mode slugs are 1 to 64 of A-Z a-z 0-9 _ - (no dots)');

const RegexSourceSchema = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      new RegExp(source);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `fileRegex is not a valid regular expression: ${(err as Error).message}` });
    }
  });

export const GroupOptionsSchema = z.strictObject({
  /** Paths (relative to the workspace) the group's tools may touch, e.g. `\\.md$`. */
  fileRegex: RegexSourceSchema.optional(),
  /** Shown to the model when a path is refused, e.g. "Markdown files only". */
  description: z.string().optional(),
});
export type GroupOptions = z.output<typeof GroupOptionsSchema>;

/** `'read'`, or `['edit', { fileRegex: '\\.md$', description: 'Markdown files only' }]`. */
export const GroupEntrySchema = z.union([ToolGroupSchema, z.tuple([ToolGroupSchema, GroupOptionsSchema])]);
export type GroupEntry = z.output<typeof GroupEntrySchema>;

/** Per tool name or group name: `ask` parks the call for a human's approval, `auto` runs it. */
export const ApprovalPolicySchema = z.record(z.string().min(1), z.enum(['ask', 'auto']));
export type ApprovalPolicy = z.output<typeof ApprovalPolicySchema>;

export const ModeConfigSchema = z.strictObject({
  slug: ModeSlugSchema,
  /** Display name ("🏗️ Architect"). */
  name: z.string().min(1),
  /** The first paragraph of the system prompt: who the model is in this mode. */
  roleDefinition: z.string().min(1),
  /** When another task should delegate to (or switch to) this mode; shown in new_task and switch_mode. */
  whenToUse: z.string().optional(),
  /** KiloCode's short description for the mode picker; used when whenToUse is absent. */
  description: z.string().optional(),
  /** Mode-specific rules appended to the system prompt. */
  customInstructions: z.string().optional(),
  groups: z.array(GroupEntrySchema).default([]),
  /** Baton: overrides LLM_MODEL for tasks of this mode. */
  model: z.string().min(1).optional(),
  /** Baton: overrides LLM_PROVIDER for tasks of this mode (its settings: OPENAI_* / ANTHROPIC_*, see provider-registry). */
  provider: ProviderKindSchema.optional(),
  /** Baton: approval policy by tool or group name (default: execute_command asks, the rest is auto). */
  approval: ApprovalPolicySchema.optional(),
  /** Baton: further tools by name (e.g. TOOLS_MODULE tools without a group), on top of the groups'. */
  tools: z.array(z.string().min(1)).optional(),
  /** KiloCode bookkeeping, accepted and ignored. */
  source: z.string().optional(),
  iconName: z.string().optional(),
});
export type ModeConfig = z.input<typeof ModeConfigSchema>;

/** Today's older format; mapped by legacyToMode. */
export const LegacyModeSchema = z.strictObject({
  name: ModeSlugSchema,
  systemPrompt: z.string().min(1),
  model: z.string().min(1).optional(),
  provider: ProviderKindSchema.optional(),
  tools: z.array(z.string().min(1)).default(['attempt_completion']),
});
export type LegacyModeConfig = z.input<typeof LegacyModeSchema>;

/** A mode as the worker uses it. */
export interface Mode {
  slug: string;
  name: string;
  roleDefinition: string;
  whenToUse?: string;
  customInstructions?: string;
  groups: GroupEntry[];
  model?: string;
  /** Absent: the worker's default provider (LLM_PROVIDER). */
  provider?: ProviderKind;
  approval?: ApprovalPolicy;
  /** Extra tools by name. */
  tools?: string[];
  /**
   * Set for a mode read from the older format: exactly these tools are
   * offered (no groups, no always-on tools), and a text reply completes the
   * task when attempt_completion is not among them.
   */
  legacyTools?: string[];
}

export function legacyToMode(legacy: z.output<typeof LegacyModeSchema>): Mode {
  return {
    slug: legacy.name,
    name: legacy.name,
    roleDefinition: legacy.systemPrompt,
    groups: [],
    ...(legacy.model ? { model: legacy.model } : {}),
    ...(legacy.provider ? { provider: legacy.provider } : {}),
    legacyTools: legacy.tools,
  };
}

export function configToMode(config: z.output<typeof ModeConfigSchema>): Mode {
  const { source: _source, iconName: _icon, description, whenToUse, ...rest } = config;
  const when = whenToUse ?? description;
  return { ...rest, ...(when ? { whenToUse: when } : {}) };
}

/**
 * One entry of a modes file, in either format. The format is told by its
 * keys (a union's error would list both shapes' complaints for every typo).
 */
export const AnyModeSchema = z.unknown().transform((raw, ctx): Mode => {
  const isObject = raw !== null && typeof raw === 'object' && !Array.isArray(raw);
  const legacy = isObject && 'systemPrompt' in raw && !('slug' in raw) && !('roleDefinition' in raw);
  const schema = legacy ? LegacyModeSchema : ModeConfigSchema;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, code: 'custom', message: issue.message, path: issue.path });
    return z.NEVER;
  }
  return legacy ? legacyToMode(parsed.data as z.output<typeof LegacyModeSchema>) : configToMode(parsed.data as z.output<typeof ModeConfigSchema>);
});

/** Name of a group entry. */
export function groupName(entry: GroupEntry): ToolGroup {
  return typeof entry === 'string' ? entry : entry[0];
}

/** Options of a group entry (fileRegex...), if any. */
export function groupOptions(entry: GroupEntry): GroupOptions | undefined {
  return typeof entry === 'string' ? undefined : entry[1];
}
