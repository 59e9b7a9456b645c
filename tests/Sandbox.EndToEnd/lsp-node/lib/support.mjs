// Shared client side of the end-to-end LSP tests: a real vscode-jsonrpc connection that records what the
// server sends, and the scenario every transport must pass. Keep method names in sync with
// src/Sandbox.Lsp/Protocol/LspMethods.cs.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import assert from 'node:assert/strict';

export const STEP_TIMEOUT_MS = Number(process.env.SANDBOX_E2E_STEP_TIMEOUT_MS ?? 120_000);

/** Path of the built `sandbox` executable (SANDBOX_BIN). */
export function sandboxBin() {
  const bin = process.env.SANDBOX_BIN;
  if (!bin || !existsSync(bin)) {
    throw new Error(`set SANDBOX_BIN to the built sandbox executable (e.g. src/Sandbox.Cli/bin/Debug/net10.0/sandbox); got '${bin ?? ''}'`);
  }
  return bin;
}

/** Starts a server process; stderr is kept for failure messages. */
export function startServer(args) {
  const child = spawn(sandboxBin(), args, { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderrText = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', chunk => { child.stderrText += chunk; });
  child.exited = new Promise(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
  return child;
}

/** Rejects after ms with a message (so a hang fails the test with a reason instead of the runner's timeout). */
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms); });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Records everything the server sends and lets a test wait for it. */
export class RecordingClient {
  constructor(connection) {
    this.connection = connection;
    this.messages = [];
    this.waiters = [];
    for (const method of ['sandbox/output', 'sandbox/testResult', 'textDocument/publishDiagnostics', 'window/showMessage', 'window/logMessage']) {
      connection.onNotification(method, params => this.record(method, params));
    }
    connection.onUnhandledProgress(params => this.record('$/progress', params));
    connection.onRequest('window/workDoneProgress/create', params => { this.record('window/workDoneProgress/create', params); return null; });
    connection.listen();
  }

  record(method, params) {
    this.messages.push({ method, params });
    for (const waiter of [...this.waiters]) {
      if (waiter.method === method && waiter.predicate(params)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(params);
      }
    }
  }

  all(method, predicate = () => true) {
    return this.messages.filter(m => m.method === method && predicate(m.params)).map(m => m.params);
  }

  waitFor(method, predicate = () => true, ms = STEP_TIMEOUT_MS) {
    const already = this.all(method, predicate);
    if (already.length > 0) {
      return Promise.resolve(already[0]);
    }
    return within(ms, new Promise(resolve => this.waiters.push({ method, predicate, resolve })), `waiting for ${method}`);
  }

  request(method, params, token) {
    // vscode-jsonrpc sends every extra argument as a parameter: pass the token only when there is one.
    const sent = token === undefined
      ? (params === undefined ? this.connection.sendRequest(method) : this.connection.sendRequest(method, params))
      : this.connection.sendRequest(method, params, token);
    return within(STEP_TIMEOUT_MS, sent, method);
  }

  notify(method, params) {
    return params === undefined ? this.connection.sendNotification(method) : this.connection.sendNotification(method, params);
  }

  async initialize() {
    const result = await this.request('initialize', {
      processId: process.pid,
      clientInfo: { name: 'sandbox-e2e-node' },
      rootUri: null,
      capabilities: { window: { workDoneProgress: true } },
      initializationOptions: { trace: 'info' },
    });
    await this.notify('initialized', {});
    return result;
  }

  async open(uri, languageId, text) {
    await this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version: 1, text } });
  }

  execute(command, argument, token) {
    return this.request('workspace/executeCommand', { command, arguments: [argument] }, token);
  }
}

/** A scratch folder with the scenario's files (removed when the process exits); URIs are file:// URIs into it. */
export function scratchFiles() {
  const marker = `loop-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'sandbox-lsp-e2e-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = (name, text) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return { uri: pathToFileURL(path).href, text };
  };
  return {
    // Line 3 (index 2) fails at run time after printing a line.
    failing: file('failing.py', 'print("hello from the sandbox")\nx = 1\nprint(undefined_name)\n'),
    fizzbuzz: file('fizzbuzz.py', [
      '# sandbox: problem=fizzbuzz',
      'n = int(input())',
      'for i in range(1, n + 1):',
      '    print("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)',
      '',
    ].join('\n')),
    looping: file('looping.py', `# e2e ${marker}\nprint("looping", flush=True)\nwhile True:\n    pass\n`),
    marker,
    hello: file('hello.py', 'print("Hello, world!")\n'),
  };
}

/**
 * Sandboxed Python runs of this test visible from the host (a container's processes are in the host's PID tree):
 * `python3 -u main.py` whose work directory holds a program with the marker (other suites may run Python too).
 */
export function sandboxedPythonRuns(marker) {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n')
    .filter(line => /python3 -u (\/work\/)?main\.py/.test(line))
    .filter(line => {
      const pid = line.trim().split(/\s+/)[0];
      try {
        return readFileSync(`/proc/${pid}/cwd/main.py`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    });
}

// ---- The scenario, one step per test, run in order on one connection. ----

export async function runShowsOutputResultAndDiagnostics(client, files) {
  await client.open(files.failing.uri, 'python', files.failing.text);
  const result = await client.execute('sandbox.run', { uri: files.failing.uri });

  assert.equal(result.verdict, 'runtime-error', JSON.stringify(result));
  assert.equal(result.exitCode, 1);
  assert.match(result.stdout, /hello from the sandbox/);
  assert.match(result.stderr, /NameError/);
  const output = client.all('sandbox/output', o => o.uri === files.failing.uri);
  assert.ok(output.some(o => o.stream === 'stdout' && o.text.includes('hello from the sandbox')), 'streamed stdout');
  assert.ok(output.some(o => o.stream === 'stderr' && o.text.includes('NameError')), 'streamed stderr');
  assert.equal(new Set(output.map(o => o.runId)).size, 1, 'one runId per run');
  const published = await client.waitFor('textDocument/publishDiagnostics', p => p.uri === files.failing.uri && p.diagnostics.length > 0);
  const diagnostic = published.diagnostics[0];
  assert.equal(diagnostic.range.start.line, 2, JSON.stringify(published));
  assert.equal(diagnostic.severity, 1);
  assert.match(diagnostic.message, /NameError/);
  const progress = client.all('$/progress');
  assert.ok(progress.some(p => p.value.kind === 'begin') && progress.some(p => p.value.kind === 'end'), 'work-done progress begin and end');
  return result;
}

export async function checkStreamsTestResultsAndVerdict(client, files) {
  await client.open(files.fizzbuzz.uri, 'python', files.fizzbuzz.text);
  const lenses = await client.request('textDocument/codeLens', { textDocument: { uri: files.fizzbuzz.uri } });
  assert.deepEqual(lenses.map(l => l.command.title), ['Run in sandbox', 'Check against fizzbuzz']);

  const result = await client.execute('sandbox.check', lenses[1].command.arguments[0]);

  assert.equal(result.verdict, 'accepted', JSON.stringify(result));
  assert.ok(result.total >= 2);
  assert.equal(result.passed, result.total);
  const tests = client.all('sandbox/testResult', t => t.uri === files.fizzbuzz.uri);
  assert.equal(tests.length, result.total, 'one sandbox/testResult per test');
  assert.ok(tests.every(t => t.verdict === 'accepted' && typeof t.timeMs === 'number' && t.name));
  const cleared = client.all('textDocument/publishDiagnostics', p => p.uri === files.fizzbuzz.uri);
  assert.ok(cleared.length > 0 && cleared.at(-1).diagnostics.length === 0, 'a clean check publishes no diagnostics');
}

export async function wrongCheckGivesWrongAnswer(client, files) {
  const wrong = { uri: files.fizzbuzz.uri.replace('fizzbuzz.py', 'wrong.py') };
  await client.open(wrong.uri, 'python', '# sandbox: problem=fizzbuzz\nn = int(input())\nfor i in range(1, n + 1):\n    print(i)\n');
  const result = await client.execute('sandbox.check', { uri: wrong.uri });
  assert.equal(result.verdict, 'wrong-answer', JSON.stringify(result));
  assert.ok(result.passed < result.total);
  assert.ok(client.all('sandbox/testResult', t => t.uri === wrong.uri).some(t => t.verdict === 'wrong-answer'));
}

export async function cancelKillsAnInfiniteLoop(client, files, CancellationTokenSource) {
  await client.open(files.looping.uri, 'python', files.looping.text);
  const source = new CancellationTokenSource();
  const running = client.connection.sendRequest('workspace/executeCommand', { command: 'sandbox.run', arguments: [{ uri: files.looping.uri }] }, source.token);
  running.catch(() => {});
  await client.waitFor('sandbox/output', o => o.uri === files.looping.uri && o.text.includes('looping'));
  assert.ok(sandboxedPythonRuns(files.marker).length > 0, 'the loop runs in the sandbox before the cancel');

  const cancelledAt = Date.now();
  source.cancel();
  await assert.rejects(within(5_000, running, 'the cancelled run to answer'), error => error.code === -32800);
  const answeredMs = Date.now() - cancelledAt;

  // The program must be gone (killed in its container), not left to the 5 s CPU limit.
  const deadline = Date.now() + 2_000;
  while (sandboxedPythonRuns(files.marker).length > 0 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 20));
  }
  assert.deepEqual(sandboxedPythonRuns(files.marker), [], 'no sandboxed python left after the cancel');
  assert.ok(answeredMs < 2_000, `cancel answered in ${answeredMs} ms`);

  // The slot is free again: a new run goes through.
  await client.open(files.hello.uri, 'python', files.hello.text);
  const hello = await client.execute('sandbox.run', { uri: files.hello.uri });
  assert.equal(hello.verdict, 'ok');
  assert.equal(hello.stdout, 'Hello, world!\n');
}
