import * as vscode from 'vscode';
import { statusText } from './format';

/** One status bar item: a spinner with a stop action while code runs, then the last verdict. */
export class SandboxStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('sandbox.status', vscode.StatusBarAlignment.Left, 100);

  constructor() {
    this.item.name = 'Sandbox';
    this.idle();
  }

  idle(): void {
    this.item.text = '$(beaker) Sandbox';
    this.item.tooltip = 'Sandbox: run the current file (Sandbox: Run in Sandbox)';
    this.item.command = 'sandbox.runInSandbox';
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  running(kind: 'run' | 'check', file: string): void {
    this.item.text = `$(sync~spin) Sandbox: ${kind === 'run' ? 'running' : 'checking'} ${file}`;
    this.item.tooltip = 'Click to stop';
    this.item.command = 'sandbox.stopRun';
    this.item.backgroundColor = undefined;
    this.item.show();
  }

  finished(kind: 'run' | 'check', verdict: string, passed?: number, total?: number): void {
    this.item.text = statusText(kind, verdict, passed, total);
    this.item.tooltip = 'Last Sandbox result. Click to show the output.';
    this.item.command = 'sandbox.showOutput';
    this.item.backgroundColor =
      verdict === 'ok' || verdict === 'accepted' ? undefined : new vscode.ThemeColor('statusBarItem.errorBackground');
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
