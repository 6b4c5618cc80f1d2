import type { Env } from '../env';
import type { Mode, ModeRegistry, ProviderKind } from '../modes/modes';
import type { ModelProvider } from './model-provider';

/**
 * The model providers of one worker, built once at start: the default one
 * (LLM_PROVIDER) and each other one a mode chooses (a mode's `provider`).
 * The agent loop asks for the provider of the task's current mode on every
 * request, so a `switch_mode` to a mode on another provider moves the next
 * turn there (same gate key `<taskId>:<turn>`: the turn's number does not
 * depend on the provider).
 *
 * Settings of a provider (docs/modes.md, "Provider of a mode"):
 * - its own variables, OPENAI_BASE_URL / OPENAI_API_KEY or
 *   ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY, when set;
 * - else, for the default provider only, LLM_BASE_URL / LLM_API_KEY (so a
 *   single-provider deployment configures nothing new);
 * - a non-default provider with neither its key nor its base URL set is not
 *   configured: a mode naming it stops the worker at start, never at the
 *   first request of a task in that mode.
 */

/** The provider LLM_PROVIDER names (unset: openai when LLM_BASE_URL is set, else the demo model). */
export function providerKind(env: Pick<Env, 'LLM_PROVIDER' | 'LLM_BASE_URL'>): ProviderKind {
  return env.LLM_PROVIDER ?? (env.LLM_BASE_URL ? 'openai' : 'demo');
}

export interface ProviderSettings {
  baseUrl: string | undefined;
  apiKey: string | undefined;
}

type SettingsEnv = Pick<
  Env,
  'LLM_PROVIDER' | 'LLM_BASE_URL' | 'LLM_API_KEY' | 'OPENAI_BASE_URL' | 'OPENAI_API_KEY' | 'ANTHROPIC_BASE_URL' | 'ANTHROPIC_API_KEY'
>;

/** The settings of `kind` (see the header); undefined: `kind` is not configured. */
export function providerSettings(env: SettingsEnv, kind: ProviderKind): ProviderSettings | undefined {
  if (kind === 'demo') return { baseUrl: undefined, apiKey: undefined };
  const own =
    kind === 'openai' ? { baseUrl: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY } : { baseUrl: env.ANTHROPIC_BASE_URL, apiKey: env.ANTHROPIC_API_KEY };
  const isDefault = providerKind(env) === kind;
  const settings = { baseUrl: own.baseUrl ?? (isDefault ? env.LLM_BASE_URL : undefined), apiKey: own.apiKey ?? (isDefault ? env.LLM_API_KEY : undefined) };
  if (!isDefault && settings.baseUrl === undefined && settings.apiKey === undefined) return undefined;
  return settings;
}

const VARIABLES: Record<Exclude<ProviderKind, 'demo'>, string> = {
  openai: 'OPENAI_API_KEY / OPENAI_BASE_URL',
  anthropic: 'ANTHROPIC_API_KEY / ANTHROPIC_BASE_URL',
};

/**
 * Problems of the modes' providers: a provider that is not configured, and a
 * mode on a provider other than the default without its own `model`
 * (LLM_MODEL names a model of the default provider; sending it to another
 * API would fail every request of the mode).
 */
export function modeProviderProblems(env: SettingsEnv & Pick<Env, 'LLM_MODEL'>, modes: readonly Mode[]): string[] {
  const defaultKind = providerKind(env);
  const problems: string[] = [];
  for (const mode of modes) {
    const kind = mode.provider;
    if (!kind || kind === defaultKind || kind === 'demo') continue;
    if (!providerSettings(env, kind)) {
      problems.push(`mode ${mode.slug}: provider ${kind} is not configured (set ${VARIABLES[kind]}; the default provider is ${defaultKind})`);
    } else if (!mode.model) {
      problems.push(
        `mode ${mode.slug}: provider ${kind} is not the default (${defaultKind}), so the mode must name its model (LLM_MODEL=${env.LLM_MODEL} is the default provider's)`,
      );
    }
  }
  return problems;
}

export class ProviderRegistry {
  private constructor(
    readonly defaultKind: ProviderKind,
    private readonly providers: ReadonlyMap<ProviderKind, ModelProvider>,
  ) {}

  /**
   * Builds the default provider (`override` replaces it, for tests and
   * embedders) and one provider per other kind the modes name. `make` builds
   * one provider from an environment whose LLM_PROVIDER / LLM_BASE_URL /
   * LLM_API_KEY are that provider's. Throws, listing every problem, when a
   * mode names a provider this worker cannot reach.
   */
  static build(env: Env, modes: ModeRegistry, make: (providerEnv: Env) => ModelProvider, override?: ModelProvider): ProviderRegistry {
    ProviderRegistry.check(env, modes);
    const defaultKind = providerKind(env);
    const kinds = new Set<ProviderKind>([defaultKind, ...modes.list().flatMap((m) => (m.provider ? [m.provider] : []))]);
    const providers = new Map<ProviderKind, ModelProvider>();
    for (const kind of kinds) {
      if (kind === defaultKind && override) {
        providers.set(kind, override);
        continue;
      }
      const settings = providerSettings(env, kind)!;
      providers.set(kind, make({ ...env, LLM_PROVIDER: kind, LLM_BASE_URL: settings.baseUrl, LLM_API_KEY: settings.apiKey }));
    }
    return new ProviderRegistry(defaultKind, providers);
  }

  /** Throws, listing every problem (modeProviderProblems), when a mode names a provider this worker cannot use. */
  static check(env: Env, modes: ModeRegistry): void {
    const problems = modeProviderProblems(env, modes.list());
    if (problems.length) throw new Error(`modes name providers this worker cannot use:\n  - ${problems.join('\n  - ')}`);
  }

  get default(): ModelProvider {
    return this.providers.get(this.defaultKind)!;
  }

  /** The provider of a mode (its `provider`, else the default); every kind a mode names was built at start. */
  forMode(mode: Pick<Mode, 'provider'>): ModelProvider {
    const provider = this.providers.get(mode.provider ?? this.defaultKind);
    if (!provider) throw new Error(`provider ${mode.provider} was not built at start (a mode added after the worker started?)`);
    return provider;
  }

  /** The kinds built, the default first (for the start log). */
  kinds(): ProviderKind[] {
    return [...this.providers.keys()];
  }

  /** Closes every provider that holds resources (keep-alive agents). */
  close(): void {
    for (const provider of this.providers.values()) (provider as { close?: () => void }).close?.();
  }
}
