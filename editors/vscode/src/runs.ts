import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient, ResponseError } from 'vscode-languageclient/node';
import { type FailureKind, classifyFailure } from './errors';
import { formatCheckSummary, formatRunHeader, formatRunSummary, formatTestLine, isSuccess } from './format';
import { parseTypedInput } from './input';
import { StreamLines } from './streamLines';
import { ProblemMemory, declaredProblem, orderProblemPicks } from './problemChoice';
import type {
  CheckResult,
  CommandArgs,
  OutputParams,
  ProblemInfo,
  ProblemsResult,
  RunResult,
  TestResultParams,
} from './protocol';
import { ServerCommands } from './protocol';
import type { SandboxStatusBar } from './statusBar';
import type { CheckTestRun, SandboxTests } from './testing';

/** A run or check in flight for one document. */
interface ActiveRun {
  kind: 'run' | 'check';
  uri: string;
  sawOutput: boolean;
  tests?: CheckTestRun;
  cancel: vscode.CancellationTokenSource;
  stopRequested: boolean;
}

/** What the command handlers need from the rest of the extension. */
export interface RunsHost {
  client(): LanguageClient | undefined;
  /** Explains why there is no client (server missing, failed to start) with actions to fix it. */
  reportNoClient(): Promise<void>;
  /** Reports a failed request (runner unreachable, bad token, ...) once, with actions. */
  reportRequestFailure(error: unknown): Promise<void>;
}

/** The Run / Run with Input / Check / Stop / Show Problem commands and the live output they produce. */
export class SandboxRuns implements vscode.Disposable {
  private readonly active = new Map<string, ActiveRun>();
  private readonly memory: ProblemMemory;
  private readonly lastInput = new Map<string, string>();
  private atLineStart = true;
  private readonly lines = new StreamLines();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: RunsHost,
    private readonly output: vscode.OutputChannel,
    private readonly status: SandboxStatusBar,
    private readonly tests: SandboxTests,
    private readonly problemView: (problem: ProblemInfo) => Promise<void>,
    workspaceState: vscode.Memento,
  ) {
    this.memory = new ProblemMemory(workspaceState);
  }

  // ---- notifications -------------------------------------------------------------------------

  onOutput(params: OutputParams): void {
    const run = this.active.get(params.uri);
    if (run) {
      run.sawOutput = true;
    }
    this.write(this.lines.push(params.stream, params.text));
    if (this.lines.pending && !this.flushTimer) {
      // A prompt without a newline still shows, just a moment later.
      this.flushTimer = setTimeout(() => this.flushLines(), 150);
    }
  }

  onTestResult(params: TestResultParams): void {
    const run = this.active.get(params.uri);
    // Every test is in the Testing view; the channel lists samples and failures only, so a problem
    // with many hidden tests does not bury the summary.
    if (!run?.tests || run.tests.isSample(params.name) || !isSuccess(params.verdict)) {
      this.writeLine(formatTestLine(params));
    }
    run?.tests?.report(params.name, params.verdict, params.timeMs);
  }

  // ---- commands ------------------------------------------------------------------------------

  async run(target?: vscode.Uri | CommandArgs): Promise<RunResult | undefined> {
    const document = await this.documentFor(target);
    if (!document) {
      return undefined;
    }
    const stdin = isArgs(target) ? target.stdin : undefined;
    return this.runDocument(document, stdin, stdin === undefined ? undefined : 'with input');
  }

  async runWithInput(target?: vscode.Uri | CommandArgs): Promise<RunResult | undefined> {
    const document = await this.documentFor(target);
    if (!document) {
      return undefined;
    }
    const key = document.uri.toString();
    type Choice = vscode.QuickPickItem & { source: 'type' | 'file' | 'last' };
    const choices: Choice[] = [
      { label: '$(edit) Type the input…', description: 'one line; \\n starts a new line', source: 'type' },
      { label: '$(file) Read the input from a file…', source: 'file' },
    ];
    const last = this.lastInput.get(key);
    if (last !== undefined) {
      choices.unshift({ label: '$(history) Same input as last time', detail: preview(last), source: 'last' });
    }
    const choice = await vscode.window.showQuickPick(choices, { title: 'Sandbox: Run with Input', placeHolder: 'Where does standard input come from?' });
    if (!choice) {
      return undefined;
    }
    let stdin: string | undefined;
    let detail: string;
    if (choice.source === 'last') {
      stdin = last;
      detail = 'same input';
    } else if (choice.source === 'type') {
      const typed = await vscode.window.showInputBox({
        title: 'Sandbox: standard input',
        prompt: 'Use \\n for a new line',
        value: last !== undefined ? last.replace(/\\/g, '\\\\').replace(/\n$/, '').replace(/\n/g, '\\n') : '',
      });
      if (typed === undefined) {
        return undefined;
      }
      stdin = parseTypedInput(typed);
      detail = 'typed input';
    } else {
      const files = await vscode.window.showOpenDialog({
        canSelectMany: false,
        openLabel: 'Use as standard input',
        defaultUri: vscode.Uri.joinPath(document.uri, '..'),
      });
      if (!files?.[0]) {
        return undefined;
      }
      stdin = new TextDecoder().decode(await vscode.workspace.fs.readFile(files[0]));
      detail = `input from ${vscode.workspace.asRelativePath(files[0])}`;
    }
    if (stdin === undefined) {
      return undefined;
    }
    this.lastInput.set(key, stdin);
    return this.runDocument(document, stdin, detail);
  }

  async check(target?: vscode.Uri | CommandArgs, problemId?: string): Promise<CheckResult | undefined> {
    const document = await this.documentFor(target);
    if (!document) {
      return undefined;
    }
    const client = await this.requireClient();
    if (!client) {
      return undefined;
    }
    const uri = document.uri.toString();
    const problem = problemId ?? (isArgs(target) ? target.problem : undefined) ?? (await this.pickProblem(client, document, 'check'));
    if (!problem) {
      return undefined;
    }
    await this.memory.remember(uri, problem);

    // The statement gives the title and the public samples; a check still runs without it.
    let info: ProblemInfo | undefined;
    try {
      info = await this.execute<ProblemInfo>(client, ServerCommands.problem, { uri, problem });
    } catch {
      info = undefined;
    }

    const run = await this.begin('check', document, `${problem}${info ? ` — ${info.title}` : ''}`);
    run.tests = this.tests.begin(document.uri, problem, info?.title ?? problem, info?.samples ?? []);
    try {
      const result = await this.execute<CheckResult>(client, ServerCommands.check, { uri, problem }, run.cancel.token);
      if (result.compileOutput && !run.sawOutput) {
        this.write(result.compileOutput);
      }
      run.tests.finish(result);
      this.writeLine(formatCheckSummary(result));
      this.status.finished('check', result.verdict, result.passed, result.total);
      return result;
    } catch (error) {
      run.tests.finish(undefined, errorText(error));
      this.fail(run, error);
      return undefined;
    } finally {
      this.end(run);
    }
  }

  async stop(target?: vscode.Uri | CommandArgs): Promise<void> {
    const uri = targetUri(target) ?? vscode.window.activeTextEditor?.document.uri.toString();
    const runs = uri && this.active.has(uri) ? [this.active.get(uri)!] : [...this.active.values()];
    const client = this.host.client();
    for (const run of runs) {
      run.stopRequested = true;
      this.writeLine('■ stopping…');
      if (client) {
        try {
          await this.execute(client, ServerCommands.stop, { uri: run.uri });
        } catch {
          // The cancel below still ends the request.
        }
      }
      // The stop command answers with the run's own result; if the server does not, cancel the request.
      setTimeout(() => {
        if (this.active.get(run.uri) === run) {
          run.cancel.cancel();
        }
      }, 2000);
    }
  }

  async showProblem(target?: vscode.Uri | CommandArgs): Promise<void> {
    const client = await this.requireClient();
    if (!client) {
      return;
    }
    const document = vscode.window.activeTextEditor?.document;
    const problem = (isArgs(target) ? target.problem : undefined) ?? (await this.pickProblem(client, document, 'show'));
    if (!problem) {
      return;
    }
    try {
      const info = await this.execute<ProblemInfo>(client, ServerCommands.problem, { uri: document?.uri.toString(), problem });
      await this.problemView(info);
    } catch (error) {
      await this.host.reportRequestFailure(error);
    }
  }

  showOutput(): void {
    this.output.show(true);
  }

  dispose(): void {
    clearTimeout(this.flushTimer);
    for (const run of this.active.values()) {
      run.cancel.cancel();
      run.cancel.dispose();
    }
    this.active.clear();
  }

  // ---- internals -----------------------------------------------------------------------------

  private async runDocument(document: vscode.TextDocument, stdin: string | undefined, detail: string | undefined): Promise<RunResult | undefined> {
    const client = await this.requireClient();
    if (!client) {
      return undefined;
    }
    const run = await this.begin('run', document, detail);
    try {
      const args: CommandArgs = { uri: document.uri.toString() };
      if (stdin !== undefined) {
        args.stdin = stdin;
      }
      const result = await this.execute<RunResult>(client, ServerCommands.run, args, run.cancel.token);
      if (!run.sawOutput) {
        // A server that does not stream still returns the whole output in the result.
        this.write(result.compileOutput ?? '');
        this.write(result.stdout ?? '');
        this.write(result.stderr ?? '');
      }
      this.writeLine(formatRunSummary(result));
      this.status.finished('run', result.verdict);
      return result;
    } catch (error) {
      this.fail(run, error);
      return undefined;
    } finally {
      this.end(run);
    }
  }

  private async begin(kind: 'run' | 'check', document: vscode.TextDocument, detail: string | undefined): Promise<ActiveRun> {
    const uri = document.uri.toString();
    const previous = this.active.get(uri);
    if (previous) {
      // The server replaces a document's previous run; end ours so its request does not linger.
      previous.stopRequested = true;
      previous.cancel.cancel();
    }
    const run: ActiveRun = { kind, uri, sawOutput: false, cancel: new vscode.CancellationTokenSource(), stopRequested: false };
    this.active.set(uri, run);
    await vscode.commands.executeCommand('setContext', 'sandbox.running', true);
    this.output.show(true);
    if (!this.atLineStart) {
      this.write('\n');
    }
    this.writeLine(formatRunHeader(kind, vscode.workspace.asRelativePath(document.uri), detail, new Date()));
    this.status.running(kind, basename(document.uri));
    return run;
  }

  private end(run: ActiveRun): void {
    run.cancel.dispose();
    if (this.active.get(run.uri) === run) {
      this.active.delete(run.uri);
    }
    if (this.active.size === 0) {
      void vscode.commands.executeCommand('setContext', 'sandbox.running', false);
    }
  }

  private fail(run: ActiveRun, error: unknown): void {
    if (failureKind(error) === 'cancelled') {
      this.writeLine('■ stopped');
      this.status.finished(run.kind, 'stopped');
      return;
    }
    this.writeLine(`■ failed: ${errorText(error)}`);
    this.status.finished(run.kind, 'failed');
    void this.host.reportRequestFailure(error);
  }

  private async pickProblem(client: LanguageClient, document: vscode.TextDocument | undefined, purpose: 'check' | 'show'): Promise<string | undefined> {
    let problems: ProblemsResult;
    try {
      problems = await this.execute<ProblemsResult>(client, ServerCommands.listProblems, { uri: document?.uri.toString() });
    } catch (error) {
      await this.host.reportRequestFailure(error);
      return undefined;
    }
    if (problems.problems.length === 0) {
      void vscode.window.showInformationMessage('Sandbox: this runner offers no problems.');
      return undefined;
    }
    const remembered = document ? this.memory.get(document.uri.toString()) : undefined;
    const declared = document && document.lineCount > 0 ? declaredProblem(document.lineAt(0).text) : undefined;
    const picks = orderProblemPicks(problems.problems, remembered, declared);
    const chosen = await vscode.window.showQuickPick(picks, {
      title: purpose === 'check' ? `Sandbox: Check ${document ? basename(document.uri) : ''} Against Problem` : 'Sandbox: Show Problem',
      placeHolder: 'Choose a problem',
      matchOnDescription: true,
      matchOnDetail: true,
    });
    return chosen?.id;
  }

  private async documentFor(target?: vscode.Uri | CommandArgs): Promise<vscode.TextDocument | undefined> {
    const uri = targetUri(target);
    if (uri) {
      const parsed = vscode.Uri.parse(uri);
      return vscode.workspace.textDocuments.find((d) => d.uri.toString() === parsed.toString())
        ?? (await vscode.workspace.openTextDocument(parsed));
    }
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Sandbox: open a source file to run it.');
      return undefined;
    }
    return editor.document;
  }

  private async requireClient(): Promise<LanguageClient | undefined> {
    const client = this.host.client();
    if (!client) {
      await this.host.reportNoClient();
    }
    return client;
  }

  private execute<T>(client: LanguageClient, command: string, args: CommandArgs, token?: vscode.CancellationToken): Promise<T> {
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [args] }, token) as Promise<T>;
  }

  private flushLines(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.write(this.lines.flush());
  }

  private write(text: string): void {
    if (!text) {
      return;
    }
    this.output.append(text);
    this.atLineStart = text.endsWith('\n');
  }

  private writeLine(line: string): void {
    if (this.lines.pending) {
      this.flushLines();
    }
    if (!this.atLineStart) {
      this.output.append('\n');
    }
    this.output.appendLine(line);
    this.atLineStart = true;
  }
}

function isArgs(target: unknown): target is CommandArgs {
  return typeof target === 'object' && target !== null && !(target instanceof vscode.Uri) && ('uri' in target || 'problem' in target || 'stdin' in target);
}

function targetUri(target: vscode.Uri | CommandArgs | undefined): string | undefined {
  if (target instanceof vscode.Uri) {
    return target.toString();
  }
  return isArgs(target) ? target.uri : undefined;
}

function basename(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

function preview(text: string): string {
  const flat = text.replace(/\n/g, '⏎');
  return flat.length > 60 ? `${flat.slice(0, 60)}…` : flat;
}

export function errorText(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function failureKind(error: unknown): FailureKind {
  return classifyFailure(error instanceof ResponseError ? error.code : undefined, errorText(error));
}
