import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { readSettings, resolveServerCommand, toServerSettings, traceLevel } from '../src/config';

const section = (values: Record<string, unknown>) => ({ get: <T>(key: string) => values[key] as T | undefined });

describe('toServerSettings', () => {
  it('maps settings and token into the sandbox section the server reads', () => {
    const settings = readSettings(section({
      'runner.url': ' wss://runner.test/rpc ',
      'limits.timeLimitSeconds': 2.5,
      'limits.memoryLimitMb': 128,
      'trace.server': 'verbose',
    }));
    assert.deepEqual(toServerSettings(settings, 'secret-token'), {
      sandbox: {
        runner: { url: 'wss://runner.test/rpc' },
        runnerUrl: 'wss://runner.test/rpc',
        token: 'secret-token',
        limits: { timeLimitSeconds: 2.5, memoryLimitMb: 128 },
        trace: 'verbose',
      },
    });
  });

  it('leaves out unset values so the server keeps its defaults', () => {
    const settings = readSettings(section({ 'limits.timeLimitSeconds': null }));
    assert.deepEqual(toServerSettings(settings, undefined), { sandbox: { runner: {}, limits: {}, trace: 'off' } });
  });

  it('drops non-positive limits and rounds memory to whole megabytes', () => {
    const settings = readSettings(section({ 'limits.timeLimitSeconds': 0, 'limits.memoryLimitMb': 64.4 }));
    assert.deepEqual(toServerSettings(settings, '').sandbox.limits, { memoryLimitMb: 64 });
    assert.equal(toServerSettings(settings, '').sandbox.token, undefined);
  });

  it('falls back to trace off for unknown levels', () => {
    assert.equal(traceLevel('loud'), 'off');
    assert.equal(traceLevel('messages'), 'messages');
  });
});

describe('resolveServerCommand', () => {
  const only = (...files: string[]) => ({ isExecutable: (f: string) => files.includes(f) });

  it('uses the setting when it points at an executable', () => {
    assert.deepEqual(resolveServerCommand('/opt/sandbox', '/ext/server/sandbox', '/usr/bin', only('/opt/sandbox', '/usr/bin/sandbox')),
      { found: true, command: '/opt/sandbox', source: 'setting' });
  });

  it('reports a setting that points nowhere instead of silently using PATH', () => {
    assert.deepEqual(resolveServerCommand('/typo/sandbox', '/ext/server/sandbox', '/usr/bin', only('/usr/bin/sandbox')),
      { found: false, source: 'setting', tried: '/typo/sandbox' });
  });

  it('prefers the bundled server over PATH when no setting is given', () => {
    assert.equal(resolveServerCommand('', '/ext/server/sandbox', '/usr/bin', only('/ext/server/sandbox', '/usr/bin/sandbox')).found, true);
    assert.deepEqual(resolveServerCommand('', '/ext/server/sandbox', '/usr/bin', only('/ext/server/sandbox')),
      { found: true, command: '/ext/server/sandbox', source: 'bundled' });
  });

  it('searches PATH in order', () => {
    const pathEnv = ['/a', '', '/b', '/c'].join(path.delimiter);
    assert.deepEqual(resolveServerCommand('', '/ext/server/sandbox', pathEnv, only('/b/sandbox', '/c/sandbox')),
      { found: true, command: '/b/sandbox', source: 'path' });
  });

  it('says nothing was found on PATH', () => {
    assert.deepEqual(resolveServerCommand('', '/ext/server/sandbox', undefined, only()),
      { found: false, source: 'path', tried: 'sandbox' });
  });
});
