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
