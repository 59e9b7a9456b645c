namespace Sandbox.Runner.Execution;

/// <summary>
/// Hard limits applied to one process tree in the sandbox. The runner's configured
/// maximum is a <see cref="ResourceLimits"/>; a client may only lower it (<see cref="ClampTo"/>).
/// </summary>
public sealed record ResourceLimits
{
    /// <summary>CPU time of the whole run (all processes).</summary>
    public TimeSpan CpuTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Wall-clock time; the run is killed through its cgroup when it passes.</summary>
    public TimeSpan WallTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Memory including swap, in bytes.</summary>
    public long MemoryBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Maximum number of processes and threads alive at once.</summary>
    public int Processes { get; init; } = 64;

    /// <summary>stdout + stderr bytes captured; the run is killed once it writes more.</summary>
    public long OutputBytes { get; init; } = 1L * 1024 * 1024;

    /// <summary>Largest file the program may write (RLIMIT_FSIZE).</summary>
    public long FileSizeBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>Open file descriptors (RLIMIT_NOFILE).</summary>
    public int OpenFiles { get; init; } = 64;

    /// <summary>Size of the writable tmpfs space (work dir, /tmp, /dev/shm together).</summary>
    public long DiskBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>Stack size (RLIMIT_STACK).</summary>
    public long StackBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// Returns these limits lowered by what the client asked for. A request can only lower a limit:
    /// values above this maximum are refused by the caller before they get here (see <see cref="Exceeds"/>),
    /// and are clamped here as a second line of defence.
    /// </summary>
    public ResourceLimits ClampTo(LimitOverrides? overrides)
    {
        if (overrides is null)
        {
            return this;
        }

        var result = this;
        if (overrides.TimeLimitSeconds is { } t && t > 0)
        {
            // Compared in seconds first: TimeSpan.FromSeconds overflows above about 29,000 years (1e12 s).
            var cpu = t < CpuTime.TotalSeconds ? TimeSpan.FromSeconds(t) : CpuTime;
            result = result with
            {
                CpuTime = Min(CpuTime, cpu),
                // Wall time follows CPU time with headroom for I/O and scheduling, never past the maximum.
                WallTime = Min(WallTime, cpu * 2 + TimeSpan.FromSeconds(1)),
            };
        }

        if (overrides.MemoryLimitMb is { } m && m > 0)
        {
            result = result with { MemoryBytes = Math.Min(MemoryBytes, m * 1024L * 1024) };
        }

        if (overrides.OutputLimitKb is { } o && o > 0)
        {
            result = result with { OutputBytes = Math.Min(OutputBytes, o * 1024L) };
        }

        if (overrides.Processes is { } p && p > 0)
        {
            result = result with { Processes = Math.Min(Processes, p) };
        }

        return result;
    }

    /// <summary>Names the first requested limit that is above this maximum, or null when all are within it.</summary>
    public string? Exceeds(LimitOverrides? overrides)
    {
        if (overrides is null)
        {
            return null;
        }

        // In seconds, not as a TimeSpan: a huge request (1e12 s) is above the maximum, not an overflow.
        if (overrides.TimeLimitSeconds is { } t && t > CpuTime.TotalSeconds)
        {
            return $"time limit {t}s is above this runner's maximum of {CpuTime.TotalSeconds}s";
        }

        if (overrides.MemoryLimitMb is { } m && m * 1024L * 1024 > MemoryBytes)
        {
            return $"memory limit {m} MB is above this runner's maximum of {MemoryBytes / 1024 / 1024} MB";
        }

        if (overrides.OutputLimitKb is { } o && o * 1024L > OutputBytes)
        {
            return $"output limit {o} KB is above this runner's maximum of {OutputBytes / 1024} KB";
        }

        if (overrides.Processes is { } p && p > Processes)
        {
            return $"process limit {p} is above this runner's maximum of {Processes}";
        }

        return null;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>Limits a client asks for. Each may only lower the runner's configured maximum.</summary>
/// <param name="TimeLimitSeconds">CPU time in seconds.</param>
/// <param name="MemoryLimitMb">Memory in MiB.</param>
/// <param name="OutputLimitKb">Captured output in KiB.</param>
/// <param name="Processes">Processes and threads.</param>
public sealed record LimitOverrides(
    double? TimeLimitSeconds = null,
    int? MemoryLimitMb = null,
    int? OutputLimitKb = null,
    int? Processes = null);
