using Microsoft.Extensions.Logging;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Cli.Composition;

/// <summary>
/// Runners for language server sessions: one embedded engine per process, shared by every session (each would
/// otherwise start its own container pool), or a fresh connection to a runner host per session.
/// </summary>
internal static class LspRunnerFactory
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static RunnerSession? embedded;

    public static async Task<ISandboxRpc> CreateAsync(string? runnerUrl, string? tokenFile, CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(runnerUrl))
        {
            var remote = await RunnerSession.OpenAsync(runnerUrl, tokenFile, slots: null, LogLevel.Warning, logErrors: true, cancellationToken);
            return new ForwardingRpc(remote.Rpc, remote);
        }

        await Gate.WaitAsync(cancellationToken);
        try
        {
            if (embedded is null)
            {
                var session = await RunnerSession.OpenAsync(null, null, slots: null, LogLevel.Warning, logErrors: true, cancellationToken);
                try
                {
                    await session.StartAsync(Console.Error, cancellationToken);
                }
                catch
                {
                    await session.DisposeAsync();
                    throw;
                }

                embedded = session;
            }

            // Not disposable: sessions share the engine for the life of the process.
            return new ForwardingRpc(embedded.Rpc, owner: null);
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>
    /// Stops the shared embedded engine, if one was started: its warm containers are destroyed now rather than left
    /// running until some later runner sweeps them as stale. Called once the command has finished.
    /// </summary>
    public static async ValueTask DisposeEmbeddedAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (embedded is { } session)
            {
                embedded = null;
                await session.DisposeAsync();
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    private sealed class ForwardingRpc(ISandboxRpc inner, IAsyncDisposable? owner) : ISandboxRpc, IAsyncDisposable
    {
        public Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken) => inner.RunAsync(request, output, cancellationToken);

        public Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken) => inner.CheckAsync(request, tests, cancellationToken);

        public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) => inner.CancelAsync(request, cancellationToken);

        public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => inner.LanguagesAsync(cancellationToken);

        public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) => inner.ProblemsAsync(cancellationToken);

        public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) => inner.ProblemAsync(request, cancellationToken);

        public ValueTask DisposeAsync() => owner?.DisposeAsync() ?? ValueTask.CompletedTask;
    }
}
