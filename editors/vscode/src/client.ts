import * as fs from 'node:fs';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import { DOCUMENT_LANGUAGES, SERVER_ARGS, resolveServerCommand } from './config';
import type { ServerSettings } from './protocol';
import { ServerCommands } from './protocol';

/** VS Code commands of this extension that the server's own command ids are routed to. */
export const ClientCommands = {
  run: 'sandbox.runInSandbox',
  runWithInput: 'sandbox.runWithInput',
  check: 'sandbox.checkAgainstProblem',
  stop: 'sandbox.stopRun',
  showProblem: 'sandbox.showProblem',
  setToken: 'sandbox.setRunnerToken',
  clearToken: 'sandbox.clearRunnerToken',
  showOutput: 'sandbox.showOutput',
} as const;

/** Server command ids that must go through this extension's handlers so output reaches the channel. */
const ROUTED: Record<string, string> = {
  [ServerCommands.run]: ClientCommands.run,
  [ServerCommands.check]: ClientCommands.check,
  [ServerCommands.stop]: ClientCommands.stop,
};

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export type StartOutcome =
  | { client: LanguageClient }
  | { missing: { source: 'setting' | 'bundled' | 'path'; tried: string } }
  | { failed: Error };

/**
 * Starts `sandbox lsp --stdio`. The server's code lenses name `sandbox.run` / `sandbox.check`; they are
 * rewritten to this extension's commands so a lens click shows output, test results and a summary
 * like the palette commands do.
 */
export async function startClient(
  context: vscode.ExtensionContext,
  serverPath: string,
  settings: () => ServerSettings,
): Promise<StartOutcome> {
  const resolution = resolveServerCommand(
    serverPath,
    context.asAbsolutePath('server/sandbox'),
    process.env.PATH,
    { isExecutable },
  );
  if (!resolution.found) {
    return { missing: { source: resolution.source, tried: resolution.tried } };
  }

  const serverOptions: ServerOptions = {
    command: resolution.command,
    args: [...SERVER_ARGS],
    transport: TransportKind.stdio,
  };
  const reroute = (lens: vscode.CodeLens): vscode.CodeLens => {
    const target = lens.command ? ROUTED[lens.command.command] : undefined;
    if (lens.command && target) {
      lens.command = { ...lens.command, command: target };
    }
    return lens;
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_LANGUAGES.flatMap((language) => [
      { scheme: 'file', language },
      { scheme: 'untitled', language },
    ]),
    outputChannelName: 'Sandbox Language Server',
    initializationOptions: () => settings(),
    middleware: {
      provideCodeLenses: async (document, token, next) => {
        const lenses = await next(document, token);
        return lenses?.map(reroute);
      },
      resolveCodeLens: async (lens, token, next) => {
        const resolved = await next(lens, token);
        return resolved ? reroute(resolved) : resolved;
      },
      executeCommand: async (command, args, next) => {
        const target = ROUTED[command];
        return target ? vscode.commands.executeCommand(target, ...args) : next(command, args);
      },
      workspace: {
        // Servers that pull configuration get the same object that is pushed, token included.
        configuration: (params, token, next) =>
          params.items.some((item) => item.section === 'sandbox' || item.section === undefined)
            ? params.items.map((item) =>
                item.section === 'sandbox' ? settings().sandbox : item.section === undefined ? settings() : null,
              )
            : next(params, token),
      },
    },
  };
  const client = new LanguageClient('sandbox', 'Sandbox Language Server', serverOptions, clientOptions);
  try {
    await client.start();
  } catch (error) {
    return { failed: error instanceof Error ? error : new Error(String(error)) };
  }
  await pushSettings(client, settings());
  return { client };
}

export async function pushSettings(client: LanguageClient, settings: ServerSettings): Promise<void> {
  await client.sendNotification(DidChangeConfigurationNotification.type, { settings });
}
