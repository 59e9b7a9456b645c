// The playground page: CodeMirror 6 talking to the Sandbox language server at /lsp. Run, Check, Stop,
// diagnostics and the problem library all go through the language server, like in every other editor;
// only sharing talks to the serve host's own API.
import { basicSetup } from 'codemirror';
import { EditorView, keymap } from '@codemirror/view';
import { EditorState, Compartment, Prec } from '@codemirror/state';
import { lintGutter } from '@codemirror/lint';
import { LSPClient, serverDiagnostics } from '@codemirror/lsp-client';

import { Commands, Notifications, ShareApi, verdictLabel } from './protocol.js';
import { syntaxFor, fileNameFor, lspLanguageIdFor } from './languages.js';
import { solarized } from './theme.js';
import { renderStatement } from './markdown.js';
import { loadState, saveState } from './storage.js';

/** Longest output the page keeps (and shows); more is cut with a note. */
const maxOutputChars = 1_000_000;
/** Longest output sent with a share; keep below the server's limit (ShareLimits.MaxOutputChars). */
const maxSharedOutputChars = 64 * 1024;
/** Requests that run programs can take long; the server enforces the real limits. */
const requestTimeoutMs = 10 * 60 * 1000;

const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const ui = {
  language: /** @type {HTMLSelectElement} */ ($('language')),
  problem: /** @type {HTMLSelectElement} */ ($('problem')),
  run: /** @type {HTMLButtonElement} */ ($('run')),
  check: /** @type {HTMLButtonElement} */ ($('check')),
  stop: /** @type {HTMLButtonElement} */ ($('stop')),
  share: /** @type {HTMLButtonElement} */ ($('share')),
  stdin: /** @type {HTMLTextAreaElement} */ ($('stdin')),
  output: $('output'),
  runStatus: $('run-status'),
  verdictsBox: $('verdicts-box'),
  verdictsBody: /** @type {HTMLTableSectionElement} */ (document.querySelector('#verdicts tbody')),
  checkSummary: $('check-summary'),
  shareBox: $('share-box'),
  shareLink: /** @type {HTMLInputElement} */ ($('share-link')),
  shareCopy: $('share-copy'),
  problemBox: /** @type {HTMLDetailsElement} */ ($('problem-box')),
  problemTitle: $('problem-title'),
  problemLimits: $('problem-limits'),
  problemStatement: $('problem-statement'),
  problemSamples: $('problem-samples'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerAction: /** @type {HTMLButtonElement} */ ($('banner-action')),
  readonlyBadge: $('readonly-badge'),
  connection: $('connection'),
  editor: $('editor'),
};

const page = {
  /** @type {LSPClient | null} */ client: null,
  /** @type {EditorView | null} */ view: null,
  /** @type {any[]} */ languages: [],
  /** @type {any | null} */ language: null,
  saved: loadState(),
  /** True while a shared run is shown and not yet edited: nothing is saved over the visitor's own program. */
  viewingShare: false,
  /** @type {{ kind: 'run' | 'check', done: Promise<unknown> } | null} */ active: null,
  /** Output as the page shows it, merged by stream, for sharing. @type {{ stream: string, text: string }[]} */
  chunks: [],
  outputChars: 0,
  received: { stdout: false, stderr: false, compile: false },
  /** @type {Map<string, HTMLTableRowElement>} */ rows: new Map(),
  saveTimer: 0,
};

const syntaxSlot = new Compartment();
const lspSlot = new Compartment();
const readOnlySlot = new Compartment();
const wrapSlot = new Compartment();
/** Phones wrap long lines instead of scrolling sideways; keep in sync with the breakpoint in style.css. */
const narrow = window.matchMedia('(max-width: 760px)');
const wrapping = () => (narrow.matches ? EditorView.lineWrapping : []);

// ---- connection ---------------------------------------------------------------------------------

/** A WebSocket transport for @codemirror/lsp-client: one JSON-RPC message per text frame, no headers. */
function openTransport(url) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    /** @type {((message: string) => void)[]} */
    let handlers = [];
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return;
      for (const handler of handlers) handler(event.data);
    };
    socket.onopen = () => resolve({
      socket,
      transport: {
        send(message) {
          if (socket.readyState !== WebSocket.OPEN) throw new Error('The connection to the language server is closed.');
          socket.send(message);
        },
        subscribe(handler) { handlers.push(handler); },
        unsubscribe(handler) { handlers = handlers.filter((h) => h !== handler); },
      },
    });
    socket.onerror = () => reject(new Error('Cannot reach the language server.'));
  });
}

function lspUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/lsp`;
}

async function connect() {
  setConnection('Connecting to the language server…');
  const { socket, transport } = await openTransport(lspUrl());
  const client = new LSPClient({
    rootUri: 'file:///playground/',
    timeout: requestTimeoutMs,
    extensions: [serverDiagnostics()],
    notificationHandlers: {
      [Notifications.output]: (_client, params) => { onOutput(params); return true; },
      [Notifications.testResult]: (_client, params) => { onTestResult(params); return true; },
      'window/showMessage': (_client, params) => { showMessage(params); return true; },
      'window/logMessage': () => true,
      '$/progress': () => true,
    },
  });
  socket.addEventListener('close', () => onDisconnected());
  client.connect(transport);
  await client.initializing;
  page.client = client;
  return client;
}

function onDisconnected() {
  setConnection('Disconnected from the language server.');
  setBusy(false);
  for (const button of [ui.run, ui.check, ui.stop]) button.disabled = true;
  showBanner('The connection to the language server was closed.', 'Reload', () => location.reload());
}

/** Runs a `workspace/executeCommand` with the one-object argument the Sandbox commands take. */
function execute(command, args) {
  const client = page.client;
  if (!client) return Promise.reject(new Error('Not connected to the language server.'));
  client.sync();
  return client.request('workspace/executeCommand', { command, arguments: [args] });
}

// ---- editor -------------------------------------------------------------------------------------

function documentUri(language) {
  return `file:///playground/${fileNameFor(language)}`;
}

function lspExtension(language) {
  return page.client ? page.client.plugin(documentUri(language), lspLanguageIdFor(language)) : [];
}

function createEditor(language, text, readOnly) {
  page.view = new EditorView({
    parent: ui.editor,
    state: EditorState.create({
      doc: text,
      extensions: [
        Prec.highest(keymap.of([
          { key: 'Mod-Enter', run: () => { void start('run'); return true; } },
          { key: 'Mod-Shift-Enter', run: () => { void start('check'); return true; } },
        ])),
        basicSetup,
        lintGutter(),
        solarized,
        EditorView.contentAttributes.of({ 'aria-label': 'Program source' }),
        syntaxSlot.of(syntaxFor(language)),
        readOnlySlot.of(EditorState.readOnly.of(readOnly)),
        wrapSlot.of(wrapping()),
        lspSlot.of(lspExtension(language)),
        EditorView.updateListener.of((update) => { if (update.docChanged) scheduleSave(); }),
      ],
    }),
  });
}

function currentText() {
  return page.view ? page.view.state.doc.toString() : '';
}

function programFor(language) {
  const saved = page.saved.programs[language.id];
  return typeof saved === 'string' ? saved : (language.starter ?? '');
}

/** Switches the editor to another language: its own saved program (or starter), highlighting and document URI. */
function switchLanguage(language, text) {
  const view = page.view;
  if (!view) return;
  if (page.language && !page.viewingShare) page.saved.programs[page.language.id] = currentText();
  page.language = language;
  // Close the old document first so the server never sees the new text under the old URI.
  view.dispatch({ effects: lspSlot.reconfigure([]) });
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text ?? programFor(language) },
    effects: syntaxSlot.reconfigure(syntaxFor(language)),
  });
  view.dispatch({ effects: lspSlot.reconfigure(lspExtension(language)) });
  ui.language.value = language.id;
  scheduleSave();
}

function setReadOnly(readOnly) {
  page.view?.dispatch({ effects: readOnlySlot.reconfigure(EditorState.readOnly.of(readOnly)) });
  ui.stdin.readOnly = readOnly;
  ui.readonlyBadge.hidden = !readOnly;
}

// ---- persistence --------------------------------------------------------------------------------

function scheduleSave() {
  if (page.viewingShare) return;
  clearTimeout(page.saveTimer);
  page.saveTimer = window.setTimeout(saveNow, 150);
}

function saveNow() {
  clearTimeout(page.saveTimer);
  if (page.viewingShare || !page.language) return;
  page.saved.language = page.language.id;
  page.saved.programs[page.language.id] = currentText();
  page.saved.stdin = ui.stdin.value;
  page.saved.problem = ui.problem.value;
  saveState(page.saved);
}

// ---- output -------------------------------------------------------------------------------------

function clearOutput() {
  ui.output.replaceChildren();
  page.chunks = [];
  page.outputChars = 0;
  page.received = { stdout: false, stderr: false, compile: false };
  ui.shareBox.hidden = true;
}

function appendOutput(stream, text) {
  if (!text) return;
  const kind = stream === 'stderr' || stream === 'compile' ? stream : 'stdout';
  if (page.outputChars >= maxOutputChars) return;
  let piece = text;
  if (page.outputChars + piece.length > maxOutputChars) {
    piece = piece.slice(0, maxOutputChars - page.outputChars);
    page.outputChars = maxOutputChars;
    appendSpan(kind, piece);
    appendSpan('note', '\n[the page shows the first 1 000 000 characters only]\n');
    return;
  }
  page.outputChars += piece.length;
  appendSpan(kind, piece);
}

function appendSpan(kind, text) {
  const last = page.chunks[page.chunks.length - 1];
  if (last && last.stream === kind) last.text += text; else page.chunks.push({ stream: kind, text });
  const lastSpan = ui.output.lastElementChild;
  const follow = ui.output.scrollTop + ui.output.clientHeight >= ui.output.scrollHeight - 4;
  if (lastSpan && lastSpan.classList.contains(kind)) {
    lastSpan.append(text);
  } else {
    const span = document.createElement('span');
    span.className = kind;
    span.textContent = text;
    ui.output.append(span);
  }
  if (follow) ui.output.scrollTop = ui.output.scrollHeight;
}

function onOutput(params) {
  if (!page.language || params?.uri !== documentUri(page.language)) return;
  const stream = params.stream === 'stderr' || params.stream === 'compile' ? params.stream : 'stdout';
  page.received[stream] = true;
  appendOutput(stream, String(params.text ?? ''));
}

function setRunStatus(text, verdict) {
  ui.runStatus.textContent = text;
  ui.runStatus.dataset.verdict = verdict ?? '';
}

// ---- checks -------------------------------------------------------------------------------------

function clearVerdicts() {
  ui.verdictsBody.replaceChildren();
  page.rows.clear();
  ui.checkSummary.textContent = '';
}

function upsertTestRow(name, verdict, timeMs) {
  let row = page.rows.get(name);
  if (!row) {
    row = document.createElement('tr');
    const nameCell = document.createElement('th');
    nameCell.scope = 'row';
    nameCell.textContent = name;
    row.append(nameCell, document.createElement('td'), document.createElement('td'));
    ui.verdictsBody.append(row);
    page.rows.set(name, row);
  }
  row.dataset.verdict = verdict;
  row.cells[1].textContent = verdictLabel(verdict);
  row.cells[1].className = `verdict verdict-${verdict}`;
  row.cells[2].textContent = Number.isFinite(timeMs) ? `${timeMs} ms` : '';
}

function onTestResult(params) {
  if (!page.language || params?.uri !== documentUri(page.language)) return;
  ui.verdictsBox.hidden = false;
  upsertTestRow(String(params.name), String(params.verdict), Number(params.timeMs));
  ui.checkSummary.textContent = `${page.rows.size} done`;
}

// ---- run, check, stop ---------------------------------------------------------------------------

function setBusy(busy) {
  const ready = !!page.client && !!page.language;
  ui.run.disabled = !ready || busy;
  ui.check.disabled = !ready || busy || !ui.problem.value;
  ui.stop.disabled = !busy;
  ui.share.disabled = !ready || busy;
  ui.output.setAttribute('aria-busy', busy ? 'true' : 'false');
}

async function start(kind) {
  if (!page.client || !page.language) return;
  if (kind === 'check' && !ui.problem.value) {
    setRunStatus('Choose a problem to check against.', 'note');
    ui.problem.focus();
    return;
  }
  if (page.active) {
    // The server replaces a document's run; wait for the old response so that every notification
    // that follows belongs to the new run.
    await stop();
    await page.active?.done.catch(() => undefined);
  }
  const language = page.language;
  const args = { uri: documentUri(language), language: language.id, stdin: ui.stdin.value };
  if (kind === 'check') args.problem = ui.problem.value;

  clearOutput();
  if (kind === 'check') { clearVerdicts(); ui.verdictsBox.hidden = false; }
  setRunStatus(kind === 'run' ? 'Running…' : 'Checking…', 'running');
  setBusy(true);
  const done = execute(kind === 'run' ? Commands.run : Commands.check, args);
  const active = { kind, done };
  page.active = active;
  try {
    const result = await done;
    if (kind === 'run') showRunResult(result); else showCheckResult(result);
  } catch (error) {
    if (isCancelled(error)) setRunStatus('Stopped', 'note');
    else setRunStatus(errorMessage(error), 'internal-error');
  } finally {
    if (page.active === active) page.active = null;
    setBusy(!!page.active);
  }
}

async function stop() {
  if (!page.active || !page.language) return;
  setRunStatus('Stopping…', 'running');
  try {
    await execute(Commands.stop, { uri: documentUri(page.language) });
  } catch (error) {
    setRunStatus(errorMessage(error), 'internal-error');
  }
}

function showRunResult(result) {
  if (!result) return;
  // A server that does not stream still answers with the whole output.
  if (!page.received.compile && result.compileOutput) appendOutput('compile', result.compileOutput);
  if (!page.received.stdout && result.stdout) appendOutput('stdout', result.stdout);
  if (!page.received.stderr && result.stderr) appendOutput('stderr', result.stderr);
  const parts = [verdictLabel(result.verdict)];
  if (result.signal) parts.push(`signal ${result.signal}`);
  else if (result.exitCode != null) parts.push(`exit ${result.exitCode}`);
  if (Number.isFinite(result.wallTimeMs)) parts.push(`${result.wallTimeMs} ms`);
  if (Number.isFinite(result.memoryKb) && result.memoryKb > 0) parts.push(`${Math.round(result.memoryKb / 1024)} MB`);
  if (result.outputTruncated) parts.push('output truncated');
  setRunStatus(parts.join(' · '), result.verdict);
}

function showCheckResult(result) {
  if (!result) return;
  if (result.compileOutput) appendOutput('compile', result.compileOutput);
  for (const test of result.tests ?? []) upsertTestRow(test.name, test.verdict, test.timeMs);
  ui.checkSummary.textContent = `${result.passed}/${result.total} passed`;
  setRunStatus(`${verdictLabel(result.verdict)} · ${result.passed}/${result.total}`, result.verdict);
}

/** LSP RequestCancelled: the run was stopped (Stop, or replaced by a newer run of the document). */
function isCancelled(error) {
  return !!error && typeof error === 'object' && error.code === -32800;
}

function errorMessage(error) {
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}

// ---- problems -----------------------------------------------------------------------------------

async function loadProblems() {
  try {
    const result = await execute(Commands.listProblems, {});
    for (const problem of result?.problems ?? []) {
      const option = document.createElement('option');
      option.value = problem.id;
      option.textContent = problem.title ? `${problem.title} (${problem.id})` : problem.id;
      ui.problem.append(option);
    }
    ui.problem.disabled = false;
  } catch (error) {
    ui.problem.title = `Problems unavailable: ${errorMessage(error)}`;
  }
}

async function showProblem(id) {
  if (!id) { ui.problemBox.hidden = true; return; }
  try {
    const problem = await execute(Commands.problem, { problem: id, uri: page.language ? documentUri(page.language) : undefined });
    if (ui.problem.value !== id) return;
    ui.problemTitle.textContent = problem.title ?? id;
    ui.problemLimits.textContent = `Time limit ${problem.timeLimitSeconds} s · memory ${problem.memoryLimitMb} MB · ${problem.samples?.length ?? 0} samples, ${problem.hiddenTests} hidden tests`;
    ui.problemStatement.innerHTML = renderStatement(problem.statementMarkdown);
    ui.problemSamples.replaceChildren(...(problem.samples ?? []).map(renderSample));
    ui.problemBox.hidden = false;
  } catch (error) {
    ui.problemTitle.textContent = id;
    ui.problemStatement.textContent = `Cannot load the problem: ${errorMessage(error)}`;
    ui.problemSamples.replaceChildren();
    ui.problemBox.hidden = false;
  }
}

function renderSample(sample, index) {
  const figure = document.createElement('figure');
  figure.className = 'sample';
  const caption = document.createElement('figcaption');
  caption.textContent = `Sample ${index + 1}${sample.name ? ` (${sample.name})` : ''}`;
  const use = document.createElement('button');
  use.type = 'button';
  use.textContent = 'Use as input';
  use.addEventListener('click', () => { if (!ui.stdin.readOnly) { ui.stdin.value = sample.input; scheduleSave(); } });
  caption.append(' ', use);
  const input = labelledPre('Input', sample.input);
  const output = labelledPre('Expected output', sample.output);
  figure.append(caption, input, output);
  return figure;
}

function labelledPre(label, text) {
  const wrap = document.createElement('div');
  const title = document.createElement('div');
  title.className = 'sample-label';
  title.textContent = label;
  const pre = document.createElement('pre');
  pre.textContent = text;
  wrap.append(title, pre);
  return wrap;
}

// ---- sharing ------------------------------------------------------------------------------------

async function share() {
  if (!page.language) return;
  const output = [];
  let budget = maxSharedOutputChars;
  for (const chunk of page.chunks) {
    if (budget <= 0) break;
    const text = chunk.text.slice(0, budget);
    budget -= text.length;
    output.push({ stream: chunk.stream, text });
  }
  ui.share.disabled = true;
  try {
    const response = await fetch(ShareApi.create, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        language: page.language.id,
        source: currentText(),
        stdin: ui.stdin.value,
        problem: ui.problem.value || null,
        output,
        status: ui.runStatus.textContent || null,
      }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => null);
      throw new Error(problem?.detail ?? problem?.title ?? `Sharing failed (${response.status}).`);
    }
    const { url } = await response.json();
    ui.shareLink.value = new URL(url, location.origin).toString();
    ui.shareBox.hidden = false;
    ui.shareLink.select();
  } catch (error) {
    setRunStatus(errorMessage(error), 'internal-error');
  } finally {
    setBusy(!!page.active);
  }
}

async function copyShareLink() {
  ui.shareLink.select();
  try {
    await navigator.clipboard.writeText(ui.shareLink.value);
    ui.shareCopy.textContent = 'Copied';
  } catch {
    // No clipboard permission (plain http, older browsers): the link stays selected for a manual copy.
    ui.shareCopy.textContent = 'Press Ctrl+C';
  }
  setTimeout(() => { ui.shareCopy.textContent = 'Copy'; }, 2000);
}

async function loadShare(id) {
  const response = await fetch(ShareApi.get(id));
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`Cannot load the shared run (${response.status}).`);
  return response.json();
}

function editShare() {
  page.viewingShare = false;
  setReadOnly(false);
  hideBanner();
  history.replaceState(null, '', '/');
  saveNow();
  page.view?.focus();
}

// ---- small UI helpers ---------------------------------------------------------------------------

function setConnection(text) { ui.connection.textContent = text; }

function showBanner(text, action, onAction) {
  ui.bannerText.textContent = text;
  ui.bannerAction.textContent = action ?? '';
  ui.bannerAction.hidden = !action;
  ui.bannerAction.onclick = onAction ?? null;
  ui.banner.hidden = false;
}

function hideBanner() { ui.banner.hidden = true; }

function showMessage(params) {
  const text = String(params?.message ?? '');
  if (text) showBanner(text, 'Dismiss', hideBanner);
}

function fillLanguages(languages) {
  ui.language.replaceChildren(...languages.map((language) => {
    const option = document.createElement('option');
    option.value = language.id;
    option.textContent = language.name ?? language.id;
    return option;
  }));
  ui.language.disabled = languages.length === 0;
}

function findLanguage(id) {
  if (!id) return null;
  const key = String(id).toLowerCase();
  return page.languages.find((l) => l.id === id)
    ?? page.languages.find((l) => (l.aliases ?? []).some((a) => String(a).toLowerCase() === key))
    ?? null;
}

// ---- start-up -----------------------------------------------------------------------------------

async function main() {
  wireControls();
  try {
    await connect();
  } catch (error) {
    setConnection('Not connected.');
    showBanner(`${errorMessage(error)} Is \`sandbox serve\` running?`, 'Retry', () => location.reload());
    return;
  }
  let languages = [];
  try {
    const result = await execute(Commands.listLanguages, {});
    languages = result?.languages ?? [];
  } catch (error) {
    showBanner(`The language server has no languages: ${errorMessage(error)}`, 'Retry', () => location.reload());
    return;
  }
  page.languages = languages;
  fillLanguages(languages);
  await loadProblems();

  const shareMatch = ShareApi.page.exec(location.pathname);
  let shared = null;
  if (shareMatch) {
    try {
      shared = await loadShare(shareMatch[1]);
      if (!shared) showBanner('This shared run does not exist (or was removed). Here is your own program.', 'Dismiss', hideBanner);
    } catch (error) {
      showBanner(errorMessage(error), 'Dismiss', hideBanner);
    }
  }

  if (shared) {
    page.viewingShare = true;
    const language = findLanguage(shared.language) ?? languages[0];
    page.language = language;
    ui.language.value = language.id;
    ui.stdin.value = shared.stdin ?? '';
    if (shared.problem && [...ui.problem.options].some((o) => o.value === shared.problem)) ui.problem.value = shared.problem;
    createEditor(language, shared.source ?? '', true);
    setReadOnly(true);
    for (const chunk of shared.output ?? []) appendOutput(chunk.stream, chunk.text);
    setRunStatus(shared.status ?? '', '');
    showBanner('A shared run: read-only until you edit it.', 'Edit', editShare);
  } else {
    const language = findLanguage(page.saved.language) ?? languages[0];
    if (!language) { showBanner('The language server offers no languages.', null, null); return; }
    page.language = language;
    ui.language.value = language.id;
    ui.stdin.value = page.saved.stdin;
    if (page.saved.problem && [...ui.problem.options].some((o) => o.value === page.saved.problem)) ui.problem.value = page.saved.problem;
    createEditor(language, programFor(language), false);
  }
  if (ui.problem.value) void showProblem(ui.problem.value);
  setConnection(`Connected · ${languages.length} languages`);
  setBusy(false);
  document.body.dataset.ready = 'true';
}

function wireControls() {
  ui.language.addEventListener('change', () => {
    const language = findLanguage(ui.language.value);
    if (!language || language === page.language) return;
    if (page.viewingShare) editShare();
    switchLanguage(language);
  });
  ui.problem.addEventListener('change', () => {
    setBusy(!!page.active);
    void showProblem(ui.problem.value);
    scheduleSave();
  });
  ui.stdin.addEventListener('input', scheduleSave);
  ui.run.addEventListener('click', () => void start('run'));
  ui.check.addEventListener('click', () => void start('check'));
  ui.stop.addEventListener('click', () => void stop());
  ui.share.addEventListener('click', () => void share());
  ui.shareCopy.addEventListener('click', () => void copyShareLink());
  // Ctrl/Cmd+Enter from anywhere on the page (the editor handles its own first).
  document.addEventListener('keydown', (event) => {
    if (event.defaultPrevented || event.key !== 'Enter' || !(event.ctrlKey || event.metaKey)) return;
    event.preventDefault();
    void start(event.shiftKey ? 'check' : 'run');
  });
  window.addEventListener('pagehide', saveNow);
  narrow.addEventListener('change', () => page.view?.dispatch({ effects: wrapSlot.reconfigure(wrapping()) }));
}

void main();
