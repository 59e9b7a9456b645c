// Runs test.lua in headless Neovim (apt's 0.7.2 is enough) against `sandbox lsp --stdio`; needs SANDBOX_BIN.
//   node --test tests/Sandbox.EndToEnd/nvim/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

test('Neovim runs a file, checks FizzBuzz and sees diagnostics through sandbox lsp --stdio', { timeout: 600_000 }, async () => {
  assert.ok(process.env.SANDBOX_BIN, 'set SANDBOX_BIN to the built sandbox executable');
  const nvim = spawn('nvim', ['--headless', '--clean', '-c', `luafile ${join(here, 'test.lua')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  nvim.stdout.on('data', chunk => { log += chunk; });
  nvim.stderr.on('data', chunk => { log += chunk; process.stderr.write(chunk); });
  const code = await new Promise(resolve => nvim.on('exit', resolve));
  assert.equal(code, 0, log);
  assert.match(log, /PASS nvim e2e/);
});
