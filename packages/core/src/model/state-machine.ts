/**
 * A state machine described as data: a transition table and one guarded
 * `transition()` that refuses (and reports) anything the table does not list.
 * The same table is handed to the Lua scripts as "allowed from" lists, so the
 * guard holds inside Redis too, where the transition is actually applied.
 */
export type TransitionTable<S extends string> = Readonly<Record<S, readonly S[]>>;

export interface TransitionRefusal<S extends string> {
  from: S;
  to: S;
}

export class IllegalTransitionError<S extends string> extends Error {
  readonly code = 'ILLEGAL_TRANSITION';
  constructor(
    readonly machine: string,
    readonly from: S,
    readonly to: S,
  ) {
    super(`${machine}: illegal transition ${from} -> ${to}`);
  }
}

export class StateMachine<S extends string> {
  constructor(
    readonly name: string,
    readonly table: TransitionTable<S>,
  ) {}

  canTransition(from: S, to: S): boolean {
    return this.table[from].includes(to);
  }

  /** States from which `to` may be entered; used as the guard passed to Lua. */
  sourcesOf(to: S): S[] {
    return (Object.keys(this.table) as S[]).filter((from) => this.table[from].includes(to));
  }

  /** Returns `to` when legal; throws IllegalTransitionError otherwise (never applies it). */
  transition(from: S, to: S): S {
    if (!this.canTransition(from, to)) throw new IllegalTransitionError(this.name, from, to);
    return to;
  }
}
