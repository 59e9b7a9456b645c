// Starts `sandbox serve` and Debian's chromium for the playground tests.
// Env: SANDBOX_BIN (the built sandbox executable), CHROMIUM (default /usr/bin/chromium).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(here, '../../..');
// playground's node_modules hold playwright-core: one package.json for the page and its tests.
const require = createRequire(join(repoRoot, 'editors/web/package.json'));
const { chromium } = require('playwright-core');

const listeningPrefix = 'Sandbox playground listening on '; // ServeCommand.ListeningPrefix

/** Starts `sandbox serve` on a free loopback port with its own data folder; resolves once it listens. */
export async function startServe({ timeoutMs = 60_000 } = {}) {
  const bin = process.env.SANDBOX_BIN ?? join(repoRoot, 'src/Sandbox.Cli/bin/Debug/net10.0/sandbox');
  const data = await mkdtemp(join(tmpdir(), 'sandbox-serve-e2e-'));
  const child = spawn(bin, ['serve', '--urls', 'http://127.0.0.1:0', '--data', data], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DOTNET_NOLOGO: '1' },
  });
  let log = '';
  const url = await new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`sandbox serve did not start in ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const onData = (chunk) => {
      log += chunk.toString();
      const line = log.split('\n').find((l) => l.startsWith(listeningPrefix));
      if (line) {
        clearTimeout(timer);
        resolvePromise(line.slice(listeningPrefix.length).trim().split(' ')[0].replace(/\/$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk) => { log += chunk.toString(); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sandbox serve exited with ${code}:\n${log}`)); });
    child.on('error', (error) => { clearTimeout(timer); reject(error); });
  });
  child.removeAllListeners('exit');
  return {
    url,
    log: () => log,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(data, { recursive: true, force: true });
    },
  };
}

/** Debian's chromium, headless, with the flags that work in this kind of machine. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Viewports the flow runs at: a desktop window and a phone. */
export const viewports = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 },
};

/** A page that records console errors and uncaught exceptions so a test can assert there were none. */
export async function openPage(context, url) {
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => { if (message.type() === 'error') errors.push(`console: ${message.text()}`); });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.errors = errors;
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  return page;
}

/** Replaces the program in the editor the way a person would paste it. */
export async function setProgram(page, text) {
  await page.click('.cm-content');
  await page.keyboard.press('ControlOrMeta+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

/** The editor's text. */
export function programText(page) {
  return page.evaluate(() => {
    const lines = [...document.querySelectorAll('.cm-content .cm-line')].map((l) => l.textContent);
    return lines.join('\n');
  });
}

/** Text of the output pane, per stream. */
export function outputText(page, stream) {
  return page.evaluate((s) => [...document.querySelectorAll(`#output .${s}`)].map((e) => e.textContent).join(''), stream);
}

/** Waits until the run or check has finished (Stop disabled again, Run enabled). */
export async function waitIdle(page, timeout = 60_000) {
  await page.waitForFunction(() => {
    const run = document.getElementById('run');
    const stop = document.getElementById('stop');
    return run && stop && !run.disabled && stop.disabled;
  }, null, { timeout });
}
