using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Runner.Execution;

namespace Sandbox.Remote.Server;

/// <summary>
/// Starts the engine's warm containers when the host starts, in the background so <c>/healthz</c> answers during
/// provisioning, and reports <c>/readyz</c> from it: ready once <see cref="CodeRunner.IsReady"/>, not ready with the
/// engine's one-line reason when provisioning failed. Any other <see cref="ICodeRunner"/> is ready when it has slots.
/// </summary>
internal sealed class EngineLifecycle(ICodeRunner runner, ILogger<EngineLifecycle> logger) : IHostedService, IRunnerReadiness
{
    private readonly CancellationTokenSource stopping = new();
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? starting;
    private volatile string? failure;

    /// <summary>Completes once runs can start (never, when provisioning failed: the reason is in the log and <c>/readyz</c>).</summary>
    public Task Ready => ready.Task;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (runner is CodeRunner engine)
        {
            starting = Task.Run(() => ProvisionAsync(engine, stopping.Token), CancellationToken.None);
        }
        else
        {
            ready.TrySetResult();
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (starting is not null)
        {
            await starting.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken)
    {
        if (runner is not CodeRunner engine)
        {
            return Task.FromResult(runner.Slots > 0 ? new ReadinessReport(true, $"{runner.Slots} slots") : new ReadinessReport(false, "no slots"));
        }

        if (engine.IsReady)
        {
            return Task.FromResult(new ReadinessReport(true, $"{engine.Slots} warm containers"));
        }

        return Task.FromResult(new ReadinessReport(false, failure ?? "provisioning the sandbox containers"));
    }

    private async Task ProvisionAsync(CodeRunner engine, CancellationToken cancellationToken)
    {
        try
        {
            await engine.StartAsync(new ProgressLog(logger), cancellationToken).ConfigureAwait(false);
            logger.LogInformation("Sandbox ready: {Slots} warm containers", engine.Slots);
            ready.TrySetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        catch (Exception ex)
        {
            failure = ex.Message;
            logger.LogError(ex, "The sandbox could not start; runs will fail until it can: {Reason}", ex.Message);
        }
    }

    private sealed class ProgressLog(ILogger logger) : IProgress<string>
    {
        public void Report(string value) => logger.LogInformation("Provisioning: {Step}", value);
    }
}
