using Sandbox.Runner.Execution;

namespace Sandbox.Runner;

/// <summary>Configuration of the sandbox engine. Validated at start-up (<see cref="Validate"/>).</summary>
public sealed class SandboxOptions
{
    /// <summary>Runs that can execute at once (one warm container each). Default: the number of cores.</summary>
    public int Slots { get; set; } = Environment.ProcessorCount;

    /// <summary>Where the root file system image, container configs and stamps live.</summary>
    public string StateDirectory { get; set; } = "/var/lib/sandbox";

    /// <summary>Where per-instance runtime files (agent sockets, locks) live; a tmpfs is best.</summary>
    public string RuntimeDirectory { get; set; } = "/run/sandbox";

    /// <summary>Where the checked-in deploy files (LXC template, seccomp profile, agent source) are. Default: beside the assemblies.</summary>
    public string DeployDirectory { get; set; } = Path.Combine(AppContext.BaseDirectory, "deploy");

    /// <summary>The cgroup file system root.</summary>
    public string CgroupRoot { get; set; } = "/sys/fs/cgroup";

    /// <summary>First host uid/gid of the containers' id maps; slot i uses a range of 65536 from base + i*65536.</summary>
    public int IdMapBase { get; set; } = 100000;

    /// <summary>The uid (and gid) programs run as inside the container.</summary>
    public int RunUid { get; set; } = 1000;

    /// <summary>The maximum limits of a run; clients may only lower them.</summary>
    public ResourceLimits MaxLimits { get; set; } = new();

    /// <summary>Limits of compile steps (compilers need more than programs).</summary>
    public ResourceLimits CompileLimits { get; set; } = new()
    {
        CpuTime = TimeSpan.FromSeconds(30),
        WallTime = TimeSpan.FromSeconds(60),
        MemoryBytes = 1024L * 1024 * 1024,
        Processes = 128,
        OutputBytes = 256 * 1024,
        FileSizeBytes = 64L * 1024 * 1024,
        OpenFiles = 256,
    };

    /// <summary>Install missing Debian toolchains with apt-get during provisioning.</summary>
    public bool InstallMissingToolchains { get; set; } = true;

    /// <summary>Throws with a message naming the bad setting.</summary>
    public void Validate()
    {
        if (Slots is < 1 or > 256)
        {
            throw new ArgumentException($"Slots must be between 1 and 256 (was {Slots})");
        }

        if (RunUid is < 1 or > 65535)
        {
            throw new ArgumentException($"RunUid must be a non-root uid below 65536 (was {RunUid})");
        }

        if (IdMapBase < 65536)
        {
            throw new ArgumentException($"IdMapBase must be at least 65536 so container ids never map onto host users (was {IdMapBase})");
        }

        foreach (var (name, limits) in new[] { ("MaxLimits", MaxLimits), ("CompileLimits", CompileLimits) })
        {
            if (limits.CpuTime <= TimeSpan.Zero || limits.WallTime <= TimeSpan.Zero || limits.MemoryBytes < 16L * 1024 * 1024
                || limits.Processes < 1 || limits.OutputBytes < 1 || limits.FileSizeBytes < 1 || limits.OpenFiles < 8 || limits.DiskBytes < 1024 * 1024)
            {
                throw new ArgumentException($"{name} has a limit that is zero or too small to run anything: {limits}");
            }
        }

        foreach (var dir in new[] { StateDirectory, RuntimeDirectory, DeployDirectory, CgroupRoot })
        {
            if (!Path.IsPathFullyQualified(dir))
            {
                throw new ArgumentException($"'{dir}' must be an absolute path");
            }
        }
    }
}
