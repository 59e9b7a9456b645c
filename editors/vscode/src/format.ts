// Pure formatting of results for the output channel and the status bar.
import type { CheckResult, CheckTest, RunResult, TestResultParams } from './protocol';

export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    return '–';
  }
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatMemory(kb: number | null | undefined): string {
  if (typeof kb !== 'number' || !Number.isFinite(kb)) {
    return '–';
  }
  if (kb < 1024) {
    return `${Math.round(kb)} KB`;
  }
  return `${(kb / 1024).toFixed(1)} MB`;
}

/** Human text of a kebab-case verdict: `time-limit` → `time limit exceeded`. */
export function verdictText(verdict: string): string {
  switch (verdict) {
    case 'ok': return 'ok';
    case 'accepted': return 'accepted';
    case 'wrong-answer': return 'wrong answer';
    case 'time-limit': return 'time limit exceeded';
    case 'memory-limit': return 'memory limit exceeded';
    case 'output-limit': return 'output limit exceeded';
    case 'runtime-error': return 'runtime error';
    case 'compile-error': return 'compile error';
    case 'security-violation': return 'security violation';
    case 'internal-error': return 'internal error';
    default: return verdict.replace(/-/g, ' ');
  }
}

export function isSuccess(verdict: string): boolean {
  return verdict === 'ok' || verdict === 'accepted';
}

/** The closing line of a run, e.g. `■ ok · exit 0 · cpu 12 ms · wall 40 ms · 8.1 MB`. */
export function formatRunSummary(result: RunResult): string {
  const parts = [`■ ${result.verdict}`];
  if (result.signal !== undefined && result.signal !== null && result.signal !== '' && result.signal !== 0) {
    parts.push(`signal ${result.signal}`);
  }
  if (typeof result.exitCode === 'number') {
    parts.push(`exit ${result.exitCode}`);
  }
  parts.push(`cpu ${formatDuration(result.cpuTimeMs)}`);
  parts.push(`wall ${formatDuration(result.wallTimeMs)}`);
  parts.push(`memory ${formatMemory(result.memoryKb)}`);
  if (result.outputTruncated) {
    parts.push('output truncated');
  }
  return parts.join(' · ');
}

/** One line per test as results stream in, e.g. `  ✓ sample-1  accepted  12 ms`. */
export function formatTestLine(test: Pick<TestResultParams, 'name' | 'verdict' | 'timeMs'>): string {
  const mark = isSuccess(test.verdict) ? '✓' : '✗';
  return `  ${mark} ${test.name}  ${test.verdict}  ${formatDuration(test.timeMs)}`;
}

/** The closing line of a check, e.g. `■ wrong-answer · 3/5 passed · first failure: 4`. */
export function formatCheckSummary(result: CheckResult): string {
  const parts = [`■ ${result.verdict}`, `${result.passed}/${result.total} passed`];
  const firstFailure: CheckTest | undefined = result.tests.find((t) => !isSuccess(t.verdict));
  if (firstFailure) {
    parts.push(`first failure: ${firstFailure.name}`);
  }
  const slowest = result.tests.reduce<number | undefined>(
    (max, t) => (typeof t.timeMs === 'number' && (max === undefined || t.timeMs > max) ? t.timeMs : max),
    undefined,
  );
  if (slowest !== undefined) {
    parts.push(`slowest ${formatDuration(slowest)}`);
  }
  return parts.join(' · ');
}

/** Status bar text after a run or check ends. */
export function statusText(kind: 'run' | 'check', verdict: string, passed?: number, total?: number): string {
  const icon = isSuccess(verdict) ? '$(pass)' : '$(error)';
  const tally = kind === 'check' && typeof passed === 'number' && typeof total === 'number' ? ` ${passed}/${total}` : '';
  return `${icon} Sandbox: ${verdict}${tally}`;
}

/** Header line written before a run's output. */
export function formatRunHeader(kind: 'run' | 'check', file: string, detail: string | undefined, at: Date): string {
  const time = at.toTimeString().slice(0, 8);
  const what = kind === 'run' ? 'Run' : 'Check';
  return `▶ ${what} ${file}${detail ? ` (${detail})` : ''} at ${time}`;
}
