// Pure mapping of check verdicts onto VS Code's test states.
import { verdictText } from './format';

/** VS Code's TestRun outcomes, as strings so this module needs no `vscode` import. */
export type TestOutcome = 'passed' | 'failed' | 'errored';

/**
 * `accepted` passes; a wrong or over-limit answer fails; a verdict that says the test could not be
 * judged at all (the program did not compile, the sandbox failed) is an error.
 */
export function testOutcome(verdict: string): TestOutcome {
  switch (verdict) {
    case 'accepted':
      return 'passed';
    case 'wrong-answer':
    case 'time-limit':
    case 'memory-limit':
    case 'output-limit':
    case 'runtime-error':
    case 'security-violation':
      return 'failed';
    default:
      return 'errored';
  }
}

/**
 * The message shown on a failed test. A public sample may show what was expected; a hidden test
 * names its verdict only, never its expected output.
 */
export function testFailureMessage(verdict: string, sample: { expectedOutput: string } | undefined): string {
  const text = verdictText(verdict);
  if (!sample) {
    return `${text} (hidden test: its input and expected output are not shown)`;
  }
  return `${text}\n\nexpected output (public sample):\n${sample.expectedOutput}`;
}
