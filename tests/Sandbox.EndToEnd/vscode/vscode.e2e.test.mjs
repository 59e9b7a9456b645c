// End-to-end test of the VS Code extension in real VS Code (code-server 4.100.3 = VS Code 1.100.3),
// driven through Debian's chromium with playwright-core, against the real `sandbox lsp --stdio`.
//
//   SANDBOX_BIN      the `sandbox` executable (default: src/Sandbox.Cli/bin/Debug/net10.0/sandbox)
//   SANDBOX_VSIX     the packaged extension (default: editors/vscode/build/sandbox.vsix, `npm run package`)
//   CODE_SERVER_DIR  code-server's package folder (default: what install-code-server.sh installs)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//
// Screenshots of each step go to build/screenshots/vscode/ (kept by CI as an artifact).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const extensionDir = path.join(repo, 'editors/vscode');
// playwright-core is a dev dependency of the extension; resolve it from there.
const { chromium } = createRequire(path.join(extensionDir, 'package.json'))('playwright-core');

const sandboxBin = process.env.SANDBOX_BIN || path.join(repo, 'src/Sandbox.Cli/bin/Debug/net10.0/sandbox');
const vsix = process.env.SANDBOX_VSIX || path.join(extensionDir, 'build/sandbox.vsix');
const browserPath = process.env.CHROMIUM || '/usr/bin/chromium';
const shots = path.join(repo, 'build/screenshots/vscode');
const STEP_MS = Number(process.env.SANDBOX_E2E_STEP_MS || 90_000);

const HELLO = 'import sys\nprint("Hello from the sandbox")\nprint("on stderr", file=sys.stderr)\n';
const FIZZBUZZ = [
  '# sandbox: problem=fizzbuzz',
  'n = int(input())',
  'for i in range(1, n + 1):',
  '    print("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else i)',
  '',
].join('\n');
const ENDLESS = 'print("spinning", flush=True)\nwhile True:\n    pass\n';
const BROKEN = 'print("fine")\n\ndef broken(:\n    pass\n';

function codeServerDir() {
  if (process.env.CODE_SERVER_DIR) {
    return process.env.CODE_SERVER_DIR;
  }
  // Idempotent: returns at once when the cache already holds this version.
  const out = execFileSync('bash', [path.join(here, 'install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return out.trim().split('\n').pop();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `pattern` shows up in the child's output; rejects if it exits or the time runs out. */
function waitForOutput(child, pattern, timeoutMs) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; output:\n${seen}`)), timeoutMs);
    const onData = (chunk) => {
      seen += chunk;
      if (pattern.test(seen)) {
        done();
      }
    };
    const onExit = (code) => done(new Error(`code-server exited (${code}) before ${pattern}; output:\n${seen}`));
    function done(error) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      error ? reject(error) : resolve();
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
  });
}

describe('VS Code extension in code-server', { timeout: 15 * 60_000 }, () => {
  let tmp;
  let codeServer;
  let browser;
  let page;
  let workspace;
  let settingsFile;
  const serverLog = [];

  before(async () => {
    assert.ok(fs.existsSync(sandboxBin), `SANDBOX_BIN ${sandboxBin} does not exist: build src/Sandbox.Cli first`);
    const help = execFileSync(sandboxBin, ['--help'], { encoding: 'utf8', timeout: 60_000 });
    assert.match(help, /^\s+lsp\b/m, `${sandboxBin} has no \`lsp\` command yet`);
    assert.ok(fs.existsSync(vsix), `${vsix} does not exist: run \`npm run package\` in editors/vscode first`);
    const csDir = codeServerDir();
    const entry = path.join(csDir, 'out/node/entry.js');
    assert.ok(fs.existsSync(entry), `code-server not found at ${csDir}`);

    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sandbox-vscode-e2e-'));
    workspace = path.join(tmp, 'workspace');
    const userData = path.join(tmp, 'user-data');
    const extensions = path.join(tmp, 'extensions');
    fs.mkdirSync(workspace);
    fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
    fs.mkdirSync(extensions);
    fs.mkdirSync(shots, { recursive: true });
    fs.writeFileSync(path.join(workspace, 'hello.py'), HELLO);
    fs.writeFileSync(path.join(workspace, 'fizzbuzz.py'), FIZZBUZZ);
    fs.writeFileSync(path.join(workspace, 'broken.py'), BROKEN);
    fs.writeFileSync(path.join(workspace, 'endless.py'), ENDLESS);
    settingsFile = path.join(userData, 'User/settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({
      'sandbox.server.path': sandboxBin,
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'workbench.enableExperiments': false,
      'telemetry.telemetryLevel': 'off',
      'extensions.autoUpdate': false,
      'extensions.autoCheckUpdates': false,
      'update.mode': 'none',
      'editor.minimap.enabled': false,
      'window.menuBarVisibility': 'compact',
      'workbench.colorTheme': 'Default Dark Modern',
      'chat.commandCenter.enabled': false,
    }, null, 2));
    const configFile = path.join(tmp, 'config.yaml');
    fs.writeFileSync(configFile, 'auth: none\n');

    const common = ['--config', configFile, '--user-data-dir', userData, '--extensions-dir', extensions];
    // code-server and VS Code put their IPC sockets and git helpers in the temp folder and leave them there when
    // ended by a signal: a temp folder of their own goes with the rest of the scratch folder.
    const ownTmp = path.join(tmp, 'tmp');
    fs.mkdirSync(ownTmp);
    const env = { ...process.env, SANDBOX_E2E: '1', TMPDIR: ownTmp };
    execFileSync(process.execPath, [entry, ...common, '--install-extension', vsix], { stdio: 'pipe', timeout: 120_000, env });

    const port = await freePort();
    codeServer = spawn(process.execPath, [
      entry, ...common,
      '--auth', 'none',
      '--bind-addr', `127.0.0.1:${port}`,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      workspace,
    ], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    codeServer.stdout.setEncoding('utf8');
    codeServer.stderr.setEncoding('utf8');
    codeServer.stdout.on('data', (d) => serverLog.push(d));
    codeServer.stderr.on('data', (d) => serverLog.push(d));
    await waitForOutput(codeServer, /HTTP server listening/, 60_000);

    browser = await chromium.launch({
      executablePath: browserPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
    page.setDefaultTimeout(STEP_MS);
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator('.monaco-workbench').waitFor();
    // The explorer shows the folder once the workbench has connected to its server.
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'hello.py' }).waitFor();
  });

  after(async () => {
    // The state the last step left, to tell what a failed step was looking at.
    await page?.screenshot({ path: path.join(shots, 'zz-last.png') }).catch(() => undefined);
    await browser?.close().catch(() => undefined);
    if (codeServer && codeServer.exitCode === null) {
      // code-server runs the extension host and our language server as its children: end the group it leads.
      try {
        process.kill(-codeServer.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    if (process.env.SANDBOX_E2E_KEEP !== '1' && tmp) {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    fs.writeFileSync(path.join(shots, 'code-server.log'), serverLog.join(''));
  });

  /** The extension's own status bar item (the server's work-done progress has a look-alike). */
  function sandboxStatus() {
    return page.locator('[id="sandbox.sandbox-vscode.sandbox.status"]');
  }

  async function screenshot(name) {
    await page.screenshot({ path: path.join(shots, `${name}.png`) });
  }

  async function openFile(name) {
    const tab = page.locator('.tabs-container .tab', { hasText: name });
    if (await tab.count()) {
      await tab.first().click();
      await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
      return;
    }
    const input = await quickOpen();
    await input.fill(name);
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().click();
    await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
  }

  /**
   * Opens Quick Open by clicking the title bar's command center: a key press would go to whatever has
   * focus, and a webview (the Markdown preview) keeps keys to itself.
   */
  async function quickOpen() {
    await page.locator('.command-center .command-center-center').click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor();
    return input;
  }

  async function runCommand(title) {
    const input = await quickOpen();
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    await row.waitFor();
    await row.click();
  }

  async function pick(label) {
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: label }).first();
    await row.waitFor();
    await row.click();
  }

  /** The Output panel shows only the lines that fit: later steps start from an empty channel. */
  async function clearOutput() {
    await runCommand('View: Clear Output');
    await waitForOutputText(/^\s*$/);
  }

  /** The text of the Output panel (shown by the extension when a run starts). */
  async function outputText() {
    return page.locator('.panel .output-view .view-lines, .panel .monaco-editor .view-lines').first().innerText();
  }

  async function waitForOutputText(pattern) {
    const deadline = Date.now() + STEP_MS;
    let text = '';
    while (Date.now() < deadline) {
      text = (await outputText().catch(() => '')).replace(/\u00a0/g, ' ');
      if (pattern.test(text)) {
        return text;
      }
      await page.waitForTimeout(250);
    }
    throw new Error(`output never matched ${pattern}; it was:\n${text}`);
  }

  it('runs a Python file from the command palette and shows its output in the Sandbox channel', async () => {
    await openFile('hello.py');
    await runCommand('Sandbox: Run in Sandbox');
    const text = await waitForOutputText(/■ ok · exit 0/);
    assert.match(text, /▶ Run hello\.py/);
    assert.match(text, /Hello from the sandbox/);
    assert.match(text, /on stderr/);
    await sandboxStatus().filter({ hasText: 'Sandbox: ok' }).waitFor();
    await screenshot('01-run');
  });

  it("routes the server's code lens through the extension", async () => {
    await clearOutput();
    await openFile('hello.py');
    await page.locator('.editor-instance .codelens-decoration a', { hasText: 'Run in sandbox' }).first().click();
    // The header and summary are the extension's: the lens did not bypass it.
    const text = await waitForOutputText(/▶ Run hello\.py[\s\S]*■ ok · exit 0/);
    assert.match(text, /Hello from the sandbox/);
  });

  it('checks FizzBuzz against the problem and shows per-test results in the Testing view', async () => {
    await openFile('fizzbuzz.py');
    await runCommand('Sandbox: Check Against Problem…');
    await pick('FizzBuzz');
    const text = await waitForOutputText(/■ accepted · (\d+)\/\1 passed/);
    assert.match(text, /▶ Check fizzbuzz\.py \(fizzbuzz/);
    assert.match(text, /✓ \S+ {2}accepted/);

    await runCommand('Testing: Focus on Test Explorer View');
    const tree = page.locator('.test-explorer .monaco-list');
    await tree.locator('.monaco-list-row', { hasText: 'FizzBuzz' }).first().waitFor();
    // Expand the problem's item so each test shows with its result.
    const rootRow = tree.locator('.monaco-list-row', { hasText: 'fizzbuzz.py' }).first();
    if ((await rootRow.getAttribute('aria-expanded')) === 'false') {
      await rootRow.click();
      await page.keyboard.press('ArrowRight');
    }
    const testRows = tree.locator('.monaco-list-row[aria-level="2"]');
    await testRows.first().waitFor();
    const count = await testRows.count();
    assert.ok(count >= 2, `expected one row per test, saw ${count}`);
    const passedIcons = tree.locator('.monaco-list-row[aria-level="2"] .codicon-testing-passed-icon');
    assert.equal(await passedIcons.count(), count, 'every test shows as passed');
    await sandboxStatus().filter({ hasText: /Sandbox: accepted \d+\/\d+/ }).waitFor();
    await screenshot('02-check');
    fs.copyFileSync(path.join(shots, '02-check.png'), path.join(shots, 'run-and-check.png'));
  });

  it('runs with typed input and shows the problem statement', async () => {
    await clearOutput();
    await openFile('fizzbuzz.py');
    await runCommand('Sandbox: Run with Input…');
    await pick('Type the input');
    const input = page.locator('.quick-input-widget input');
    await input.fill('6');
    await input.press('Enter');
    const text = await waitForOutputText(/▶ Run fizzbuzz\.py \(typed input\)[\s\S]*■ ok/);
    assert.match(text.slice(text.lastIndexOf('▶ Run fizzbuzz.py')), /1\s+2\s+Fizz\s+4\s+Buzz\s+Fizz\s+■ ok/);

    await runCommand('Sandbox: Show Problem');
    await pick('FizzBuzz');
    await page.locator('.tabs-container .tab', { hasText: /Preview fizzbuzz\.md/ }).waitFor();
    // The Markdown preview is a webview: an iframe holding the active frame with the rendered page.
    const preview = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await preview.locator('h1', { hasText: 'FizzBuzz' }).waitFor();
    await preview.locator('h2', { hasText: 'Samples' }).waitFor();
    assert.match(await preview.locator('body').innerText(), /hidden tests?/);
    await screenshot('04-problem');
  });

  it('stops an endless program from the status bar', async () => {
    await clearOutput();
    await openFile('endless.py');
    await runCommand('Sandbox: Run in Sandbox');
    await waitForOutputText(/▶ Run endless\.py[\s\S]*spinning/);
    const running = sandboxStatus().filter({ hasText: 'Sandbox: running endless.py' });
    await running.waitFor();
    await running.click();
    await waitForOutputText(/▶ Run endless\.py[\s\S]*■ stopped/);
    await sandboxStatus().filter({ hasText: 'Sandbox: stopped' }).waitFor();
  });

  it('shows a diagnostic on the line of a syntax error', async () => {
    await clearOutput();
    await openFile('broken.py');
    await runCommand('Sandbox: Run in Sandbox');
    await waitForOutputText(/▶ Run broken\.py[\s\S]*■ (runtime-error|compile-error)/);
    await page.locator('.editor-instance .monaco-editor .squiggly-error').first().waitFor();
    await runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const marker = page.locator('.markers-panel .monaco-list-row', { hasText: /Syntax|invalid syntax|SyntaxError/i }).first();
    await marker.waitFor();
    assert.match(await marker.innerText(), /\[Ln 3/);
    await screenshot('03-diagnostic');
  });

  /** Sets a setting through the Settings editor, as a user would. */
  async function setSetting(id, label, value, tab) {
    await runCommand('Preferences: Open User Settings');
    const search = page.locator('.settings-editor .suggest-input-container textarea, .settings-editor .search-container input').first();
    await search.waitFor();
    await search.fill(id);
    if (tab) {
      await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: tab }).click();
    }
    const field = page.locator('.settings-editor .setting-item-contents', { hasText: label }).locator('input').first();
    await field.waitFor();
    await field.fill(value);
    await field.press('Tab');
  }

  it('tells once, with the fix, when the runner cannot be reached', async () => {
    // Port 1 on loopback: nothing listens there.
    await setSetting('sandbox.runner.url', 'Runner: Url', 'ws://127.0.0.1:1/rpc');
    await openFile('hello.py');
    // The setting reaches the server a moment after the editor saves it: run until a run goes to the new runner.
    let failedRuns = 0;
    for (let attempt = 0; attempt < 10 && failedRuns < 2; attempt++) {
      await clearOutput();
      await runCommand('Sandbox: Run in Sandbox');
      const text = await waitForOutputText(/■ (ok|failed)/);
      if (/■ failed/.test(text)) {
        assert.match(text, /cannot reach the runner/);
        failedRuns++;
      }
    }
    assert.equal(failedRuns, 2, 'runs fail while the runner cannot be reached');
    const toast = page.locator('.notification-toast', { hasText: /runner/i });
    await toast.first().locator('.monaco-button', { hasText: 'Set Runner URL' }).waitFor();
    assert.equal(await toast.count(), 1, 'one notification for the server message and both failed runs');
    await screenshot('05-runner-unreachable');
    await toast.first().locator('.codicon-notifications-clear').click();
  });

  it('tells once, with the fix, when the server binary is missing', async () => {
    // A machine-scoped setting: code-server's window is remote, so it is edited on the Remote tab.
    await setSetting('sandbox.server.path', 'Server: Path', path.join(tmp, 'no-such-dir/sandbox'), 'Remote');
    const toast = page.locator('.notification-toast', { hasText: 'does not exist or is not executable' });
    await toast.waitFor();
    await toast.locator('.monaco-button', { hasText: 'Set Server Path' }).waitFor();
    await openFile('hello.py');
    await runCommand('Sandbox: Run in Sandbox');
    await page.waitForTimeout(1000);
    assert.equal(await page.locator('.notification-toast', { hasText: 'does not exist or is not executable' }).count(), 1,
      'one notification, not one per attempt');
    await screenshot('06-missing-server');
  });
});
