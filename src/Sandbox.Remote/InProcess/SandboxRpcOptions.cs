using Sandbox.Runner.Execution;

namespace Sandbox.Remote.InProcess;

/// <summary>How the in-process <see cref="Contract.ISandboxRpc"/> admits work. Validated by <see cref="Validate"/>.</summary>
public sealed class SandboxRpcOptions
{
    /// <summary>The most a request may ask for; a request may only lower these. Default: <see cref="ResourceLimits"/>' defaults.</summary>
    public ResourceLimits MaxLimits { get; set; } = new();

    /// <summary>Runs that may wait for a slot once all are busy; past this a request fails at once with <c>host-busy</c>. Default 64.</summary>
    public int MaxQueue { get; set; } = 64;

    /// <summary>Runs and checks executing at once; null means the engine's <see cref="ICodeRunner.Slots"/>.</summary>
    public int? Slots { get; set; }

    /// <summary>
    /// Whether <c>problem</c> may name a file or folder on this machine instead of a library id. True for the embedded
    /// runner (the CLI checks local problem files); a runner host sets it false so clients cannot make it read host paths.
    /// </summary>
    public bool AllowProblemPaths { get; set; } = true;

    /// <summary>Throws <see cref="ArgumentException"/> with one line naming the bad setting.</summary>
    public void Validate()
    {
        if (MaxQueue < 0)
        {
            throw new ArgumentException($"max queue must be 0 or more (got {MaxQueue})");
        }

        if (Slots is < 1)
        {
            throw new ArgumentException($"slots must be 1 or more (got {Slots})");
        }

        if (MaxLimits.CpuTime <= TimeSpan.Zero || MaxLimits.WallTime <= TimeSpan.Zero || MaxLimits.MemoryBytes <= 0)
        {
            throw new ArgumentException("maximum limits must be positive");
        }
    }
}
