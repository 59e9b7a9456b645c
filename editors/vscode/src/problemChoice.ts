// Pure logic for choosing a problem: memory per file and the order of the quick pick.
import type { ProblemSummary } from './protocol';

/** The part of VS Code's Memento this needs (workspaceState fits). */
export interface KeyValueStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

const KEY = 'sandbox.problemByFile';

/** Remembers which problem each file was last checked against. */
export class ProblemMemory {
  constructor(private readonly store: KeyValueStore) {}

  get(fileUri: string): string | undefined {
    return this.store.get<Record<string, string>>(KEY)?.[fileUri];
  }

  async remember(fileUri: string, problemId: string): Promise<void> {
    const all = { ...(this.store.get<Record<string, string>>(KEY) ?? {}) };
    all[fileUri] = problemId;
    await this.store.update(KEY, all);
  }

  async forget(fileUri: string): Promise<void> {
    const all = { ...(this.store.get<Record<string, string>>(KEY) ?? {}) };
    delete all[fileUri];
    await this.store.update(KEY, all);
  }
}

/**
 * The problem a file declares in its first line, e.g. `# sandbox: problem=fizzbuzz` or
 * `// sandbox: problem=two-sum` (the server's code lens reads the same convention).
 */
export function declaredProblem(firstLine: string): string | undefined {
  const match = /sandbox:\s*problem\s*=\s*([A-Za-z0-9_.\-]+)/.exec(firstLine);
  return match?.[1];
}

export interface ProblemPick {
  id: string;
  label: string;
  description: string;
  detail: string;
  preferred: boolean;
}

/**
 * Quick-pick entries: the remembered problem first, then the one the file declares, then the rest
 * by title.
 */
export function orderProblemPicks(
  problems: readonly ProblemSummary[],
  remembered: string | undefined,
  declared: string | undefined,
): ProblemPick[] {
  const rank = (id: string): number => (id === remembered ? 0 : id === declared ? 1 : 2);
  return [...problems]
    .sort((a, b) => rank(a.id) - rank(b.id) || a.title.localeCompare(b.title))
    .map((p) => {
      const hidden = Math.max(0, p.tests - p.samples);
      const note = p.id === remembered ? 'last used' : p.id === declared ? 'declared in file' : undefined;
      return {
        id: p.id,
        label: p.title || p.id,
        description: note ? `${p.id} · ${note}` : p.id,
        detail: `${p.samples} sample${p.samples === 1 ? '' : 's'}, ${hidden} hidden test${hidden === 1 ? '' : 's'}`,
        preferred: rank(p.id) < 2,
      };
    });
}
