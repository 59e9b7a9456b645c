import * as vscode from 'vscode';
import {
  type LanguageClient,
  MessageType,
  ShowMessageNotification,
  type ShowMessageParams,
  WorkDoneProgressCreateRequest,
} from 'vscode-languageclient/node';
import { ClientCommands, pushSettings, startClient } from './client';
import { readSettings, toServerSettings } from './config';
import { classifyFailure } from './errors';
import { SetupNotifier, openSetting } from './notify';
import { ProblemView } from './problemView';
import type { OutputParams, ServerSettings, TestResultParams } from './protocol';
import { ServerNotifications } from './protocol';
import { type RunsHost, SandboxRuns, errorText, failureKind } from './runs';
import { SandboxStatusBar } from './statusBar';
import { SandboxTests } from './testing';

const TOKEN_KEY = 'sandbox.runner.token';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Sandbox');
  const status = new SandboxStatusBar();
  const notifier = new SetupNotifier();
  const problemView = new ProblemView();
  let token = await context.secrets.get(TOKEN_KEY);
  let startProblem: string | undefined;

  const settings = (): ServerSettings =>
    toServerSettings(readSettings(vscode.workspace.getConfiguration('sandbox')), token);

  const host: RunsHost = {
    client: () => client,
    reportNoClient: async () => {
      await notifier.once('no-server', startProblem ?? 'Sandbox: the language server is not running.', {
        'Set Server Path': () => openSetting('sandbox.server.path'),
        'Restart Server': () => restart(),
      });
    },
    reportRequestFailure: async (error) => {
      const text = errorText(error);
      const url = vscode.workspace.getConfiguration('sandbox').get<string>('runner.url');
      const kind = failureKind(error);
      if (kind === 'cancelled') {
        return;
      }
      if (kind === 'runner') {
        await reportRunnerTrouble(`Sandbox: the runner${url ? ` at ${url}` : ''} cannot be used: ${text}`);
      } else {
        await notifier.once(`error:${text}`, `Sandbox: ${text}`, { 'Show Output': () => output.show(true) });
      }
    },
  };
  const runs: SandboxRuns = new SandboxRuns(
    host,
    output,
    status,
    new SandboxTests((uri, problemId) => runs.check(uri, problemId).then(() => undefined)),
    (problem) => problemView.show(problem),
    context.workspaceState,
  );

  // The server says "runner down" as window/showMessage and again as the failed request's error:
  // both end here under one key, so the user sees one notification with the settings that fix it.
  function reportRunnerTrouble(message: string): Promise<void> {
    return notifier.once('runner', message, {
      'Set Runner URL': () => openSetting('sandbox.runner.url'),
      'Set Runner Token': () => vscode.commands.executeCommand(ClientCommands.setToken),
    });
  }

  function onShowMessage(message: ShowMessageParams): void {
    const serious = message.type === MessageType.Error || message.type === MessageType.Warning;
    if (serious && classifyFailure(undefined, message.message) === 'runner') {
      void reportRunnerTrouble(message.message.startsWith('Sandbox') ? message.message : `Sandbox: ${message.message}`);
    } else if (message.type === MessageType.Error) {
      void vscode.window.showErrorMessage(message.message);
    } else if (message.type === MessageType.Warning) {
      void vscode.window.showWarningMessage(message.message);
    } else {
      void vscode.window.showInformationMessage(message.message);
    }
  }

  async function start(): Promise<void> {
    const config = readSettings(vscode.workspace.getConfiguration('sandbox'));
    const outcome = await startClient(context, config.serverPath, settings);
    if ('client' in outcome) {
      client = outcome.client;
      startProblem = undefined;
      client.onNotification(ServerNotifications.output, (params: OutputParams) => runs.onOutput(params));
      client.onNotification(ServerNotifications.testResult, (params: TestResultParams) => runs.onTestResult(params));
      client.onNotification(ShowMessageNotification.type, onShowMessage);
      // The server reports work-done progress for clients without an extension; here the status bar
      // item already shows the run with its stop action, so the duplicate progress is declined.
      client.onRequest(WorkDoneProgressCreateRequest.type, () => undefined);
      return;
    }
    startProblem = 'missing' in outcome
      ? outcome.missing.source === 'setting'
        ? `Sandbox: the server at "${outcome.missing.tried}" (setting sandbox.server.path) does not exist or is not executable.`
        : 'Sandbox: the `sandbox` executable was not found on PATH. Install it or set sandbox.server.path.'
      : `Sandbox: the language server failed to start: ${outcome.failed.message}`;
    output.appendLine(startProblem);
    await host.reportNoClient();
  }

  async function restart(): Promise<void> {
    const old = client;
    client = undefined;
    await old?.stop().catch(() => undefined);
    notifier.reset();
    await start();
  }

  context.subscriptions.push(
    output,
    status,
    problemView,
    runs,
    vscode.commands.registerCommand(ClientCommands.run, (target) => runs.run(target)),
    vscode.commands.registerCommand(ClientCommands.runWithInput, (target) => runs.runWithInput(target)),
    vscode.commands.registerCommand(ClientCommands.check, (target) => runs.check(target)),
    vscode.commands.registerCommand(ClientCommands.stop, (target) => runs.stop(target)),
    vscode.commands.registerCommand(ClientCommands.showProblem, (target) => runs.showProblem(target)),
    vscode.commands.registerCommand(ClientCommands.showOutput, () => runs.showOutput()),
    vscode.commands.registerCommand(ClientCommands.setToken, async () => {
      const value = await vscode.window.showInputBox({
        title: 'Sandbox: runner token',
        prompt: 'The bearer token of the runner host (kept in VS Code secret storage)',
        password: true,
        ignoreFocusOut: true,
      });
      if (value !== undefined) {
        await context.secrets.store(TOKEN_KEY, value.trim());
      }
    }),
    vscode.commands.registerCommand(ClientCommands.clearToken, () => context.secrets.delete(TOKEN_KEY)),
    context.secrets.onDidChange(async (event) => {
      if (event.key !== TOKEN_KEY) {
        return;
      }
      token = await context.secrets.get(TOKEN_KEY);
      notifier.reset();
      if (client) {
        await pushSettings(client, settings());
      }
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration('sandbox')) {
        return;
      }
      notifier.reset();
      if (event.affectsConfiguration('sandbox.server.path') || !client) {
        await restart();
      } else {
        await pushSettings(client, settings());
      }
    }),
  );

  await start();
}

export async function deactivate(): Promise<void> {
  const old = client;
  client = undefined;
  await old?.stop();
}
