import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyFailure } from '../src/errors';

describe('classifyFailure', () => {
  it('treats the server error codes as the contract', () => {
    assert.equal(classifyFailure(-32800, 'stopped'), 'cancelled');
    assert.equal(classifyFailure(3, 'cannot reach the runner host at wss://x: connection refused'), 'runner');
    assert.equal(classifyFailure(5, 'the runner refused: unknown problem nope'), 'other');
    assert.equal(classifyFailure(2, 'unknown language'), 'other');
  });

  it('falls back to the message when there is no code', () => {
    assert.equal(classifyFailure(undefined, 'Request cancelled'), 'cancelled');
    assert.equal(classifyFailure(undefined, 'connect ECONNREFUSED 127.0.0.1:9'), 'runner');
    assert.equal(classifyFailure(undefined, 'Pending response rejected since connection got disposed'), 'other');
  });
});
