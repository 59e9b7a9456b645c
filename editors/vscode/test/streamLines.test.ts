import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamLines } from '../src/streamLines';

describe('StreamLines', () => {
  it('keeps a line whole when its newline arrives after the other stream wrote', () => {
    const lines = new StreamLines();
    let out = '';
    out += lines.push('stdout', 'Hello from the sandbox');
    out += lines.push('stderr', 'on stderr\n');
    out += lines.push('stdout', '\n');
    assert.equal(out, 'on stderr\nHello from the sandbox\n');
    assert.equal(lines.pending, false);
  });

  it('writes complete lines at once and holds the tail', () => {
    const lines = new StreamLines();
    assert.equal(lines.push('stdout', 'a\nb\nc'), 'a\nb\n');
    assert.equal(lines.pending, true);
    assert.equal(lines.push('stdout', 'd\n'), 'cd\n');
  });

  it('gives held partial lines back on flush, such as a prompt', () => {
    const lines = new StreamLines();
    lines.push('stdout', 'Enter n: ');
    assert.equal(lines.flush(), 'Enter n: ');
    assert.equal(lines.pending, false);
    assert.equal(lines.flush(), '');
  });
});
