import * as vscode from 'vscode';

/**
 * Shows each kind of setup problem (server missing, runner unreachable) once, with the actions that
 * fix it, instead of one toast per failed request. Reset when the settings or the token change.
 */
export class SetupNotifier {
  private readonly shown = new Set<string>();

  reset(): void {
    this.shown.clear();
  }

  async once(key: string, message: string, actions: Record<string, () => unknown>): Promise<void> {
    if (this.shown.has(key)) {
      return;
    }
    this.shown.add(key);
    const choice = await vscode.window.showErrorMessage(message, ...Object.keys(actions));
    if (choice) {
      await actions[choice]();
    }
  }
}

export function openSetting(id: string): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openSettings', id);
}
