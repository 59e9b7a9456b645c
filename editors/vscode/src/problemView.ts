import * as vscode from 'vscode';
import type { ProblemInfo } from './protocol';
import { renderProblemMarkdown } from './problemMarkdown';

const SCHEME = 'sandbox-problem';

/** Shows problem statements as read-only Markdown documents rendered in VS Code's Markdown preview. */
export class ProblemView implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly contents = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private readonly registration = vscode.workspace.registerTextDocumentContentProvider(SCHEME, this);

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.contents.get(uri.toString()) ?? '';
  }

  async show(problem: ProblemInfo): Promise<void> {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${problem.id}.md` });
    this.contents.set(uri.toString(), renderProblemMarkdown(problem));
    this.changed.fire(uri);
    try {
      await vscode.commands.executeCommand('markdown.showPreview', uri);
    } catch {
      // Without the built-in Markdown extension, the Markdown source is still readable.
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document, { preview: true });
    }
  }

  dispose(): void {
    this.registration.dispose();
    this.changed.dispose();
  }
}
