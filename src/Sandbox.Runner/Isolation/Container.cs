using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// One warm, unprivileged LXC container whose init is the agent. Started fresh, never reused across
/// runner processes; replaced whenever anything about it is in doubt.
/// </summary>
internal sealed class Container : IDisposable
{
    private readonly ProvisionedImage _image;
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private readonly string _lxcPath;
    private readonly string _ctlDir;
    private bool _stopped;

    private Container(string name, int slot, ProvisionedImage image, SandboxOptions options, ILogger logger)
    {
        Name = name;
        Slot = slot;
        _image = image;
        _options = options;
        _logger = logger;
        _lxcPath = Path.Combine(options.StateDirectory, "lxc");
        _ctlDir = Path.Combine(options.RuntimeDirectory, "ctl", name);
        Worker = new SlotWorker("sandbox " + name);
    }

    public string Name { get; }

    public int Slot { get; }

    public int InitPid { get; private set; }

    public AgentConnection Agent { get; private set; } = null!;

    /// <summary>The agent's socket (host path).</summary>
    internal string SocketPath => Path.Combine(_ctlDir, "agent.sock");

    public RunCgroup Cgroup { get; private set; } = null!;

    /// <summary>The thread that runs this container's processes (see <see cref="SandboxProcess"/>).</summary>
    public SlotWorker Worker { get; }

    /// <summary>Host uid of container root for this slot.</summary>
    public int UidBase => _options.IdMapBase + (Slot * 65536);

    /// <summary>Creates, starts and connects to a new container. Fails closed: any step failing stops it.</summary>
    public static Container Start(string name, int slot, ProvisionedImage image, SandboxOptions options, ILogger logger)
    {
        var container = new Container(name, slot, image, options, logger);
        try
        {
            container.StartCore();
            return container;
        }
        catch (Exception e)
        {
            logger.LogError("Container {Name} failed to start: {Error}", name, e.Message);
            container.Dispose();
            throw;
        }
    }

    private void StartCore()
    {
        var dir = Path.Combine(_lxcPath, Name);
        Directory.CreateDirectory(dir);

        // The agent's socket folder: owned by container root, mode 0700, so no run (an unprivileged uid) can reach it.
        Directory.CreateDirectory(_ctlDir);
        if (Directory.EnumerateFileSystemEntries(_ctlDir).Any())
        {
            throw new InvalidOperationException($"control folder {_ctlDir} is not empty");
        }

        File.SetUnixFileMode(_ctlDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (lchown(_ctlDir, UidBase, UidBase) != 0)
        {
            throw new InvalidOperationException($"chown {_ctlDir} failed: {Native.LastError()}");
        }

        var config = _image.ConfigTemplate
            .Replace("@NAME@", Name, StringComparison.Ordinal)
            .Replace("@ROOTFS@", _image.RootFs, StringComparison.Ordinal)
            .Replace("@CTLDIR@", _ctlDir, StringComparison.Ordinal)
            .Replace("@SECCOMP@", _image.SeccompProfile, StringComparison.Ordinal)
            .Replace("@UIDBASE@", UidBase.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@BOXBYTES@", _options.MaxLimits.DiskBytes.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("@CGROUP@", _image.Cgroups.LxcConfig(Max(_options), extraProcesses: 8), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(dir, "config"), config);

        var log = Path.Combine(dir, "lxc.log");
        var code = Lxc("lxc-start", "-d", "-l", "ERROR", "-o", log);
        if (code != 0)
        {
            var detail = File.Exists(log)
                ? string.Join(" | ", File.ReadAllLines(log).Where(l => l.Contains("ERROR", StringComparison.Ordinal) && !l.Contains("Additional information", StringComparison.Ordinal)).Take(3))
                : "";
            throw new InvalidOperationException($"lxc-start {Name} exited with {code}: {detail}");
        }

        var socket = Path.Combine(_ctlDir, "agent.sock");
        var clock = Stopwatch.StartNew();
        // The agent binds its socket as soon as it runs (tens of milliseconds) and listens right after; wait for both
        // with a deadline (a connect between the two is refused).
        AgentConnection? agent;
        while ((agent = File.Exists(socket) ? AgentConnection.TryConnect(socket) : null) is null)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(15))
            {
                throw new InvalidOperationException($"the agent of {Name} did not start within 15 s (see {log})");
            }

            Thread.Sleep(2);
        }

        Agent = agent;
        InitPid = Agent.PeerPid();
        Agent.Ping(TimeSpan.FromSeconds(5));
        Cgroup = _image.Cgroups.CreateRunGroup(InitPid);
        _logger.LogDebug("Container {Name} ready in {Ms} ms (agent pid {Pid})", Name, clock.ElapsedMilliseconds, InitPid);
    }

    private static Execution.ResourceLimits Max(SandboxOptions o) =>
        o.CompileLimits.MemoryBytes > o.MaxLimits.MemoryBytes || o.CompileLimits.Processes > o.MaxLimits.Processes
            ? o.MaxLimits with
            {
                MemoryBytes = Math.Max(o.CompileLimits.MemoryBytes, o.MaxLimits.MemoryBytes),
                Processes = Math.Max(o.CompileLimits.Processes, o.MaxLimits.Processes),
            }
            : o.MaxLimits;

    private int Lxc(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-P");
        psi.ArgumentList.Add(_lxcPath);
        psi.ArgumentList.Add("-n");
        psi.ArgumentList.Add(Name);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill();
            return -1;
        }

        return p.ExitCode;
    }

    /// <summary>Stops the container (SIGKILL to its init kills everything in it) and removes its files.</summary>
    public void Dispose()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        Worker.Dispose();
        Cgroup?.Dispose();
        Agent?.Dispose();
        var dir = Path.Combine(_lxcPath, Name);
        if (InitPid > 0 && Native.kill(InitPid, 9) == 0)
        {
            // SIGKILL to the container's init ends every process in its PID namespace at once; LXC's monitor
            // then tears the container down. Wait (bounded) for its cgroup to go: that is the end of the monitor's work.
            var clock = Stopwatch.StartNew();
            var cgroup = Cgroup?.ContainerDirectory;
            while (cgroup is not null && Directory.Exists(cgroup) && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                Thread.Sleep(1);
            }
        }
        else if (File.Exists(Path.Combine(dir, "config")))
        {
            var code = Lxc("lxc-stop", "-k");
            if (code != 0 && code != 2)
            {
                _logger.LogWarning("lxc-stop {Name} exited with {Code}", Name, code);
            }
        }

        RemoveFiles(_lxcPath, _options.RuntimeDirectory, Name);
    }

    /// <summary>Removes a stopped container's files. The control folder is container-owned: only its socket is unlinked, by name.</summary>
    internal static void RemoveFiles(string lxcPath, string runtimeDirectory, string name)
    {
        var dir = Path.Combine(lxcPath, name);
        try
        {
            if (Directory.Exists(dir))
            {
                // Host-owned folder (config and log written by us and by lxc-start as root).
                Directory.Delete(dir, recursive: true);
            }

            var ctl = Path.Combine(runtimeDirectory, "ctl", name);
            if (Directory.Exists(ctl))
            {
                // Never recurse into a folder the container could write: unlink the one expected entry, then rmdir.
                var socket = Path.Combine(ctl, "agent.sock");
                var info = new FileInfo(socket);
                if (info.Exists || info.LinkTarget is not null)
                {
                    File.Delete(socket);
                }

                Directory.Delete(ctl, recursive: false);
            }
        }
        catch (IOException)
        {
            // Left for the next start's sweep.
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int owner, int group);
}
