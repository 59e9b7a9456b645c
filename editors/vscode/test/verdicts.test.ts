import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testFailureMessage, testOutcome } from '../src/verdicts';

describe('testOutcome', () => {
  it('passes accepted only', () => {
    assert.equal(testOutcome('accepted'), 'passed');
    assert.equal(testOutcome('ok'), 'errored');
  });

  it('fails wrong or over-limit answers', () => {
    for (const verdict of ['wrong-answer', 'time-limit', 'memory-limit', 'output-limit', 'runtime-error', 'security-violation']) {
      assert.equal(testOutcome(verdict), 'failed', verdict);
    }
  });

  it('marks tests that could not be judged as errored', () => {
    for (const verdict of ['compile-error', 'internal-error', 'something-unknown']) {
      assert.equal(testOutcome(verdict), 'errored', verdict);
    }
  });
});

describe('testFailureMessage', () => {
  it('shows a public sample its expected output', () => {
    assert.equal(testFailureMessage('wrong-answer', { expectedOutput: '1\n2\nFizz\n' }), 'wrong answer\n\nexpected output (public sample):\n1\n2\nFizz\n');
  });

  it('never shows a hidden test expected output', () => {
    const message = testFailureMessage('wrong-answer', undefined);
    assert.match(message, /^wrong answer \(hidden test/);
    assert.doesNotMatch(message, /expected output \(/);
  });
});
