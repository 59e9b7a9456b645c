// Latency of `workspace/executeCommand sandbox.run` (request → response) for a Python hello over stdio with the
// embedded runner, next to `sandbox run` of the same file, in one run (medians; this VM is noisy: compare them).
//   SANDBOX_BIN=... node bench/latency.mjs [N]
import { execFileSync } from 'node:child_process';
import { StreamMessageReader, StreamMessageWriter, createProtocolConnection } from 'vscode-languageserver-protocol/node';
import { startServer, RecordingClient, scratchFiles, sandboxBin } from '../lib/support.mjs';
import { fileURLToPath } from 'node:url';

const n = Number(process.argv[2] ?? 20);
const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const files = scratchFiles();

const server = startServer(['lsp', '--stdio']);
const client = new RecordingClient(createProtocolConnection(new StreamMessageReader(server.stdout), new StreamMessageWriter(server.stdin)));
await client.initialize();
await client.open(files.hello.uri, 'python', files.hello.text);
await client.execute('sandbox.run', { uri: files.hello.uri }); // warm-up: starts the engine

const lsp = [];
const cli = [];
for (let i = 0; i < n; i++) {
  // Interleaved so both see the same machine load.
  let start = performance.now();
  const result = await client.execute('sandbox.run', { uri: files.hello.uri });
  lsp.push(performance.now() - start);
  if (result.stdout !== 'Hello, world!\n') throw new Error(JSON.stringify(result));

  start = performance.now();
  execFileSync(sandboxBin(), ['run', fileURLToPath(files.hello.uri)], { stdio: ['ignore', 'pipe', 'pipe'] });
  cli.push(performance.now() - start);
}
await client.request('shutdown');
await client.notify('exit');

console.log(`python hello, N=${n}, median ms: lsp executeCommand sandbox.run ${median(lsp).toFixed(1)} | sandbox run (whole process) ${median(cli).toFixed(1)}`);
