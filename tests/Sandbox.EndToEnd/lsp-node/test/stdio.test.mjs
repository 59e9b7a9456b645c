// `sandbox lsp --stdio` driven by vscode-languageserver-protocol's own stdio transport.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection, CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import {
  startServer, RecordingClient, scratchFiles, within, STEP_TIMEOUT_MS,
  runShowsOutputResultAndDiagnostics, checkStreamsTestResultsAndVerdict, wrongCheckGivesWrongAnswer, cancelKillsAnInfiniteLoop,
} from '../lib/support.mjs';

/** Parses bytes strictly as LSP frames; throws on anything else. */
function parseFrames(bytes) {
  const frames = [];
  let position = 0;
  while (position < bytes.length) {
    const headerEnd = bytes.indexOf('\r\n\r\n', position);
    assert.ok(headerEnd > position, `not a frame header at byte ${position}: ${JSON.stringify(bytes.subarray(position, position + 60).toString())}`);
    const header = bytes.subarray(position, headerEnd).toString('ascii');
    const match = /^Content-Length: (\d+)(\r\nContent-Type: [^\r\n]+)?$/.exec(header);
    assert.ok(match, `bad header: ${JSON.stringify(header)}`);
    const length = Number(match[1]);
    frames.push(JSON.parse(bytes.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8')));
    position = headerEnd + 4 + length;
  }
  return frames;
}

describe('sandbox lsp --stdio (vscode-languageserver-protocol)', { timeout: 10 * STEP_TIMEOUT_MS }, () => {
  let server;
  let client;
  const stdout = [];
  const files = scratchFiles();

  before(async () => {
    server = startServer(['lsp', '--stdio']);
    server.stdout.on('data', chunk => stdout.push(chunk));
    const connection = createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin));
    client = new RecordingClient(connection);
    const result = await client.initialize();
    assert.ok(result.capabilities.executeCommandProvider.commands.includes('sandbox.run'));
  });

  after(() => {
    if (server.exitCode === null) {
      server.kill('SIGKILL');
    }
  });

  it('runs a Python file with an error: streamed output, the result, a diagnostic on the failing line', async () => {
    await runShowsOutputResultAndDiagnostics(client, files);
  });

  it('checks FizzBuzz: one sandbox/testResult per test and an accepted verdict', async () => {
    await checkStreamsTestResultsAndVerdict(client, files);
  });

  it('checks a wrong FizzBuzz: wrong-answer', async () => {
    await wrongCheckGivesWrongAnswer(client, files);
  });

  it('$/cancelRequest kills a while-True program in its container', async () => {
    await cancelKillsAnInfiniteLoop(client, files, CancellationTokenSource);
  });

  it('unknown methods get MethodNotFound and the server keeps serving', async () => {
    await assert.rejects(client.request('textDocument/hover', { textDocument: { uri: files.hello.uri }, position: { line: 0, character: 0 } }), e => e.code === -32601);
    const languages = await client.execute('sandbox.listLanguages', {});
    assert.ok(languages.languages.some(l => l.id === 'python'));
  });

  it('shutdown then exit ends the process with code 0, and stdout carried only frames', async () => {
    await client.request('shutdown');
    await client.notify('exit');
    const { code } = await within(STEP_TIMEOUT_MS, server.exited, 'the server to exit');
    assert.equal(code, 0, server.stderrText);
    const frames = parseFrames(Buffer.concat(stdout));
    assert.ok(frames.length > 10, `${frames.length} frames`);
    assert.ok(frames.every(f => f.jsonrpc === '2.0'));
  });
});

describe('sandbox lsp --stdio lifecycle', { timeout: STEP_TIMEOUT_MS }, () => {
  it('exit without shutdown ends the process with code 1', async () => {
    const server = startServer(['lsp', '--stdio']);
    try {
      const client = new RecordingClient(createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin)));
      await client.initialize();
      await client.notify('exit');
      const { code } = await within(STEP_TIMEOUT_MS, server.exited, 'the server to exit');
      assert.equal(code, 1);
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('a runner host that is down gives window/showMessage saying what to fix, and commands fail fast', async () => {
    const server = startServer(['lsp', '--stdio', '--runner', 'ws://127.0.0.1:9/rpc']);
    try {
      const client = new RecordingClient(createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin)));
      await client.initialize();
      const shown = await client.waitFor('window/showMessage', () => true, 30_000);
      assert.equal(shown.type, 1);
      assert.match(shown.message, /ws:\/\/127\.0\.0\.1:9\/rpc/);
      assert.match(shown.message, /sandbox host/);
      await client.open('file:///tmp/x.py', 'python', 'print(1)\n');
      await assert.rejects(within(30_000, client.execute('sandbox.run', { uri: 'file:///tmp/x.py' }), 'run against a dead runner'), e => e.code === 3);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
