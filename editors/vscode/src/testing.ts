import * as vscode from 'vscode';
import { formatDuration } from './format';
import type { CheckResult, ProblemSample } from './protocol';
import { testFailureMessage, testOutcome } from './verdicts';

/** Checks shown in VS Code's Testing view: one item per file and problem, one child per test. */
export class SandboxTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('sandbox', 'Sandbox');

  constructor(rerun: (uri: vscode.Uri, problemId: string) => Promise<void>) {
    this.controller.createRunProfile('Check Against Problem', vscode.TestRunProfileKind.Run, async (request, token) => {
      const roots = new Set<vscode.TestItem>();
      const add = (item: vscode.TestItem): void => {
        let root: vscode.TestItem = item;
        while (root.parent) {
          root = root.parent;
        }
        roots.add(root);
      };
      if (request.include) {
        request.include.forEach(add);
      } else {
        this.controller.items.forEach(add);
      }
      for (const root of roots) {
        if (token.isCancellationRequested) {
          return;
        }
        const [uri, problemId] = splitRootId(root.id);
        await rerun(vscode.Uri.parse(uri), problemId);
      }
    }, true);
  }

  /** Starts a test run for one check; sample items are known up front, hidden ones appear as results stream in. */
  begin(uri: vscode.Uri, problemId: string, problemTitle: string, samples: readonly ProblemSample[]): CheckTestRun {
    const rootId = `${uri.toString()}::${problemId}`;
    let root = this.controller.items.get(rootId);
    if (!root) {
      root = this.controller.createTestItem(rootId, `${problemTitle} — ${basename(uri)}`, uri);
      this.controller.items.add(root);
    }
    root.label = `${problemTitle} — ${basename(uri)}`;
    const sampleItems = samples.map((s) => this.controller.createTestItem(`${rootId}::${s.name}`, s.name));
    sampleItems.forEach((item, index) => {
      item.description = 'sample';
      item.sortText = String(index).padStart(4, '0');
    });
    root.children.replace(sampleItems);
    const run = this.controller.createTestRun(new vscode.TestRunRequest([root]), `Check ${basename(uri)} against ${problemId}`, true);
    run.started(root);
    for (const item of sampleItems) {
      run.enqueued(item);
    }
    return new CheckTestRun(this.controller, run, root, new Map(samples.map((s) => [s.name, s])));
  }

  dispose(): void {
    this.controller.dispose();
  }
}

/** The live side of one check in the Testing view. */
export class CheckTestRun {
  private readonly reported = new Set<string>();
  private ended = false;

  constructor(
    private readonly controller: vscode.TestController,
    private readonly run: vscode.TestRun,
    private readonly root: vscode.TestItem,
    private readonly samples: ReadonlyMap<string, ProblemSample>,
  ) {}

  /** Whether the test is one of the problem's public samples. */
  isSample(name: string): boolean {
    return this.samples.has(name);
  }

  /** One test's result, as `sandbox/testResult` streams it. */
  report(name: string, verdict: string, timeMs: number | null | undefined, sample?: boolean): void {
    if (this.ended) {
      return;
    }
    const isSample = sample ?? this.samples.has(name);
    const id = `${this.root.id}::${name}`;
    let item = this.root.children.get(id);
    if (!item) {
      item = this.controller.createTestItem(id, name);
      this.root.children.add(item);
    }
    // Keep the order the runner judged them in (samples first), not alphabetical.
    item.sortText = String(this.reported.size).padStart(4, '0');
    item.description = isSample ? 'sample' : 'hidden';
    this.reported.add(name);
    const duration = typeof timeMs === 'number' ? timeMs : undefined;
    this.run.appendOutput(`${name}: ${verdict} (${formatDuration(timeMs)})\r\n`, undefined, item);
    const outcome = testOutcome(verdict);
    if (outcome === 'passed') {
      this.run.passed(item, duration);
      return;
    }
    const sampleData = isSample ? this.samples.get(name) : undefined;
    const message = new vscode.TestMessage(
      testFailureMessage(verdict, sampleData ? { expectedOutput: sampleData.output } : undefined),
    );
    if (outcome === 'failed') {
      this.run.failed(item, message, duration);
    } else {
      this.run.errored(item, message, duration);
    }
  }

  /** Ends the run with the final result: tests that never streamed are reported from it. */
  finish(result: CheckResult | undefined, failure?: string): void {
    if (this.ended) {
      return;
    }
    if (result) {
      result.tests.forEach((test, index) => {
        if (!this.reported.has(test.name)) {
          this.report(test.name, test.verdict, test.timeMs, test.sample);
        }
        // Tests finish in any order when the runner judges them in parallel; list them in the problem's order.
        const item = this.root.children.get(`${this.root.id}::${test.name}`);
        if (item) {
          item.sortText = String(index).padStart(4, '0');
        }
      });
    }
    this.root.children.forEach((item) => {
      const name = item.id.slice(this.root.id.length + 2);
      if (!this.reported.has(name)) {
        this.run.skipped(item);
      }
    });
    // The problem's item takes its state from its tests, so counts in the Testing view are tests only.
    if (failure) {
      this.run.errored(this.root, new vscode.TestMessage(failure));
    }
    this.ended = true;
    this.run.end();
  }
}

function basename(uri: vscode.Uri): string {
  return uri.path.slice(uri.path.lastIndexOf('/') + 1);
}

function splitRootId(id: string): [string, string] {
  const at = id.lastIndexOf('::');
  return [id.slice(0, at), id.slice(at + 2)];
}
