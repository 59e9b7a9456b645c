// `sandbox lsp --ws URL` driven by vscode-ws-jsonrpc (what web IDEs such as Monaco use) over the `ws` package.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { toSocket, WebSocketMessageReader, WebSocketMessageWriter } from 'vscode-ws-jsonrpc';
import { createProtocolConnection, CancellationTokenSource } from 'vscode-languageserver-protocol/node';
import {
  startServer, RecordingClient, scratchFiles, within, STEP_TIMEOUT_MS,
  runShowsOutputResultAndDiagnostics, checkStreamsTestResultsAndVerdict, wrongCheckGivesWrongAnswer, cancelKillsAnInfiniteLoop,
} from '../lib/support.mjs';

async function connect(url) {
  const webSocket = new WebSocket(url);
  await within(STEP_TIMEOUT_MS, new Promise((resolve, reject) => { webSocket.once('open', resolve); webSocket.once('error', reject); }), `connect to ${url}`);
  const socket = toSocket(webSocket);
  const client = new RecordingClient(createProtocolConnection(new WebSocketMessageReader(socket), new WebSocketMessageWriter(socket)));
  client.webSocket = webSocket;
  return client;
}

describe('sandbox lsp --ws (vscode-ws-jsonrpc)', { timeout: 10 * STEP_TIMEOUT_MS }, () => {
  let server;
  let url;
  let client;
  const files = scratchFiles();

  before(async () => {
    server = startServer(['lsp', '--ws', 'http://127.0.0.1:0']);
    const line = await within(60_000, new Promise(resolve => {
      const look = () => {
        const match = /listening on (ws:\/\/\S+)/.exec(server.stderrText);
        if (match) {
          server.stderr.off('data', look);
          resolve(match[1]);
        }
      };
      server.stderr.on('data', look);
      look();
    }), 'the server to listen');
    url = line;
    client = await connect(url);
    await client.initialize();
  });

  after(() => {
    client?.webSocket.close();
    server.kill('SIGTERM');
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

  it('a second client has its own session', async () => {
    const second = await connect(url);
    try {
      await second.initialize();
      await assert.rejects(second.execute('sandbox.run', { uri: files.failing.uri.replace('failing.py', 'not-open-anywhere.py') }), e => e.code === 1);
      await second.open(files.hello.uri, 'python', files.hello.text);
      const result = await second.execute('sandbox.run', { uri: files.hello.uri });
      assert.equal(result.stdout, 'Hello, world!\n');
      assert.equal(client.all('sandbox/output', o => o.runId && second.all('sandbox/output').some(s => s.runId === o.runId)).length, 0, 'no output crosses sessions');
    } finally {
      second.webSocket.close();
    }
  });

  it('shutdown and exit close the session; the server keeps serving others', async () => {
    await client.request('shutdown');
    await client.notify('exit');
    await within(STEP_TIMEOUT_MS, new Promise(resolve => client.webSocket.once('close', resolve)), 'the socket to close');
    const again = await connect(url);
    try {
      const result = await again.initialize();
      assert.ok(result.capabilities.codeLensProvider);
    } finally {
      again.webSocket.close();
    }
  });
});
