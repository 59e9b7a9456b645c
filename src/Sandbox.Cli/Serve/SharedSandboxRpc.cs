using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Cli.Serve;

/// <summary>
/// The playground's one runner, handed to every language server session. The language server disposes what its
/// factory returns when a session ends; this wrapper is not disposable, so the runner (and its warm containers)
/// outlives the browser tabs and is disposed once, when <c>sandbox serve</c> stops.
/// </summary>
internal sealed class SharedSandboxRpc(ISandboxRpc inner) : ISandboxRpc
{
    public Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken) =>
        inner.RunAsync(request, output, cancellationToken);

    public Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken) =>
        inner.CheckAsync(request, tests, cancellationToken);

    public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) =>
        inner.CancelAsync(request, cancellationToken);

    public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => inner.LanguagesAsync(cancellationToken);

    public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) => inner.ProblemsAsync(cancellationToken);

    public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) =>
        inner.ProblemAsync(request, cancellationToken);
}
