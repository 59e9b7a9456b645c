using Sandbox.Runner.Execution;

namespace Sandbox.Remote.Server;

/// <summary>Whether the engine can take runs now (containers provisioned), for <c>GET /readyz</c>.</summary>
public interface IRunnerReadiness
{
    /// <summary>Checks readiness; cheap enough for a probe every few seconds.</summary>
    Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken);
}

/// <summary>The answer of a readiness probe.</summary>
/// <param name="Ready">True when runs can start.</param>
/// <param name="Detail">One line for operators, e.g. what is missing.</param>
public sealed record ReadinessReport(bool Ready, string Detail);

/// <summary>
/// The readiness used when the engine registers none: ready once the engine can be constructed and reports slots.
/// The engine's own <see cref="IRunnerReadiness"/> (its warm-container pool) replaces it.
/// </summary>
internal sealed class EngineConstructedReadiness(IServiceProvider services) : IRunnerReadiness
{
    public Task<ReadinessReport> CheckAsync(CancellationToken cancellationToken)
    {
        try
        {
            var runner = (ICodeRunner?)services.GetService(typeof(ICodeRunner));
            return Task.FromResult(runner is { Slots: > 0 }
                ? new ReadinessReport(true, $"{runner.Slots} slots")
                : new ReadinessReport(false, "no runner slots"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Task.FromResult(new ReadinessReport(false, ex.Message));
        }
    }
}
