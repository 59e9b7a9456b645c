import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatCheckSummary,
  formatDuration,
  formatMemory,
  formatRunHeader,
  formatRunSummary,
  formatTestLine,
  statusText,
  verdictText,
} from '../src/format';

describe('formatRunSummary', () => {
  it('gives verdict, exit code, times and memory', () => {
    assert.equal(
      formatRunSummary({ verdict: 'ok', exitCode: 0, cpuTimeMs: 12, wallTimeMs: 40.4, memoryKb: 8294 }),
      '■ ok · exit 0 · cpu 12 ms · wall 40 ms · memory 8.1 MB',
    );
  });

  it('names the signal of a killed program and a truncated output', () => {
    assert.equal(
      formatRunSummary({ verdict: 'time-limit', exitCode: 137, signal: 9, cpuTimeMs: 2003, wallTimeMs: 2100, memoryKb: 900, outputTruncated: true }),
      '■ time-limit · signal 9 · exit 137 · cpu 2.00 s · wall 2.10 s · memory 900 KB · output truncated',
    );
  });

  it('shows dashes for measurements a compile error never took', () => {
    assert.equal(formatRunSummary({ verdict: 'compile-error', exitCode: null }), '■ compile-error · cpu – · wall – · memory –');
  });
});

describe('formatCheckSummary', () => {
  it('counts passes and names the first failure and the slowest test', () => {
    const line = formatCheckSummary({
      verdict: 'wrong-answer',
      passed: 2,
      total: 3,
      tests: [
        { name: 'sample-1', sample: true, verdict: 'accepted', timeMs: 20 },
        { name: 'hidden-1', sample: false, verdict: 'wrong-answer', timeMs: 35 },
        { name: 'hidden-2', sample: false, verdict: 'accepted', timeMs: 31 },
      ],
    });
    assert.equal(line, '■ wrong-answer · 2/3 passed · first failure: hidden-1 · slowest 35 ms');
  });

  it('has no failure part when all are accepted', () => {
    assert.equal(
      formatCheckSummary({ verdict: 'accepted', passed: 1, total: 1, tests: [{ name: 't', sample: true, verdict: 'accepted', timeMs: 5 }] }),
      '■ accepted · 1/1 passed · slowest 5 ms',
    );
  });
});

describe('small formatters', () => {
  it('formats test lines with a mark', () => {
    assert.equal(formatTestLine({ name: 'sample-1', verdict: 'accepted', timeMs: 12 }), '  ✓ sample-1  accepted  12 ms');
    assert.equal(formatTestLine({ name: '3', verdict: 'time-limit', timeMs: null }), '  ✗ 3  time-limit  –');
  });

  it('formats durations and memory with sensible units', () => {
    assert.equal(formatDuration(999), '999 ms');
    assert.equal(formatDuration(1500), '1.50 s');
    assert.equal(formatMemory(1023), '1023 KB');
    assert.equal(formatMemory(2048), '2.0 MB');
  });

  it('spells verdicts out', () => {
    assert.equal(verdictText('memory-limit'), 'memory limit exceeded');
    assert.equal(verdictText('some-new-verdict'), 'some new verdict');
  });

  it('shows the verdict and, for checks, the tally in the status bar', () => {
    assert.equal(statusText('run', 'ok'), '$(pass) Sandbox: ok');
    assert.equal(statusText('check', 'wrong-answer', 3, 5), '$(error) Sandbox: wrong-answer 3/5');
  });

  it('writes a header naming the file and what runs', () => {
    const at = new Date(2026, 0, 2, 3, 4, 5);
    assert.equal(formatRunHeader('check', 'src/fizz.py', 'fizzbuzz', at), '▶ Check src/fizz.py (fizzbuzz) at 03:04:05');
    assert.equal(formatRunHeader('run', 'a.py', undefined, at), '▶ Run a.py at 03:04:05');
  });
});
