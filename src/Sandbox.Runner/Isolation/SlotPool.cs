using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// The warm containers of this runner: one per slot, started fresh when the pool starts (stale containers
/// of dead runners are swept first), each reset by its agent after every use and replaced on any doubt.
/// </summary>
internal sealed class SlotPool : IAsyncDisposable
{
    private readonly ProvisionedImage _image;
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<Container> _free;
    private readonly Container?[] _containers;
    private readonly int[] _generations;
    private readonly string _instance;
    private readonly FileStream _instanceLock;
    private readonly CancellationTokenSource _disposing = new();
    private int _disposed;

    private SlotPool(ProvisionedImage image, SandboxOptions options, ILogger logger)
    {
        _image = image;
        _options = options;
        _logger = logger;
        _free = Channel.CreateUnbounded<Container>();
        _containers = new Container?[options.Slots];
        _generations = new int[options.Slots];
        _instance = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        Directory.CreateDirectory(InstancesDirectory(options.RuntimeDirectory));
        // Held for the life of this process; a container whose instance lock is free belongs to a dead runner.
        _instanceLock = new FileStream(InstanceLock(options.RuntimeDirectory, _instance), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
    }

    public int Slots => _containers.Length;

    /// <summary>The containers now in the slots (a replaced container's slot shows its successor).</summary>
    public IReadOnlyList<Container> Containers => [.. _containers.Where(c => c is not null).Select(c => c!)];

    /// <summary>The names of <see cref="Containers"/>.</summary>
    public IReadOnlyList<string> ContainerNames => [.. Containers.Select(c => c.Name)];

    /// <summary>
    /// Sweeps stale containers, then starts every slot's container. From a successful start on, the pool holds the
    /// image's leases (<see cref="ProvisionedImage.InUse"/>) and lets them go when it is disposed.
    /// </summary>
    public static SlotPool Start(ProvisionedImage image, SandboxOptions options, ILogger logger)
    {
        SweepStale(options, logger);
        var pool = new SlotPool(image, options, logger);
        try
        {
            Parallel.For(0, options.Slots, slot => pool.StartSlot(slot));
            return pool;
        }
        catch
        {
            pool.DisposeContainers();
            throw;
        }
    }

    /// <summary>Waits for a free, clean container.</summary>
    public ValueTask<Container> AcquireAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        _disposing.Token.ThrowIfCancellationRequested();
        // A free container now: no linked token source to make and tear down.
        return _free.Reader.TryRead(out var container) ? ValueTask.FromResult(container) : WaitAsync(cancellationToken);
    }

    private async ValueTask<Container> WaitAsync(CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _disposing.Token);
        return await _free.Reader.ReadAsync(linked.Token);
    }

    /// <summary>
    /// Returns a container after use. It serves again only once its agent has killed everything the run
    /// left and wiped the writable space, and its run cgroup is empty; otherwise it is replaced.
    /// </summary>
    public void Release(Container container, bool alreadyReset = false)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            if (!alreadyReset)
            {
                container.Agent.Reset(TimeSpan.FromSeconds(10));
            }

            if (!container.Cgroup.IsEmpty())
            {
                throw new InvalidOperationException("processes survived the reset");
            }

            _free.Writer.TryWrite(container);
        }
        catch (Exception e)
        {
            _logger.LogWarning("Replacing container {Name}: {Reason}", container.Name, e.Message);
            Replace(container);
        }
    }

    /// <summary>Stops a container that cannot be trusted any more and starts a fresh one in its slot.</summary>
    public void Replace(Container container)
    {
        container.Dispose();
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            StartSlot(container.Slot);
        }
        catch (Exception e)
        {
            // The slot stays empty: the pool serves with one slot fewer rather than with a doubtful container.
            _logger.LogError("Slot {Slot} could not be restarted: {Error}", container.Slot, e.Message);
        }
    }

    private void StartSlot(int slot)
    {
        var generation = Interlocked.Increment(ref _generations[slot]);
        var name = $"sbx-{_instance}-{slot}-{generation}";
        var container = Container.Start(name, slot, _image, _options, _logger);
        _containers[slot] = container;
        _free.Writer.TryWrite(container);
    }

    /// <summary>
    /// Stops and removes the containers of runners that are gone (their instance lock is free): those with a
    /// configuration folder, and any control folder left without one (a runner killed between removing the two).
    /// </summary>
    internal static void SweepStale(SandboxOptions options, ILogger logger)
    {
        SweepStaleCgroups(options);
        var lxcPath = Path.Combine(options.StateDirectory, "lxc");
        foreach (var name in NamesIn(lxcPath).Union(NamesIn(Path.Combine(options.RuntimeDirectory, "ctl"))))
        {
            var parts = name.Split('-');
            if (parts.Length != 4)
            {
                continue;
            }

            var lockPath = InstanceLock(options.RuntimeDirectory, parts[1]);
            if (LockFile.IsHeld(lockPath))
            {
                continue;
            }

            if (Directory.Exists(Path.Combine(lxcPath, name)))
            {
                logger.LogInformation("Removing stale container {Name} of a runner that is gone", name);
                Stop(lxcPath, name, logger);
            }

            Container.RemoveFiles(lxcPath, options.RuntimeDirectory, name);
            try
            {
                File.Delete(lockPath);
            }
            catch (IOException)
            {
            }
        }

        SweepInstanceLocks(InstancesDirectory(options.RuntimeDirectory));
    }

    /// <summary>
    /// Removes the instance locks of runners that are gone and left no container (killed while starting). Only a
    /// lock file at least a minute old: a runner creates its file and then locks it, and one found in between must
    /// not lose it.
    /// </summary>
    private static void SweepInstanceLocks(string instances)
    {
        if (!Directory.Exists(instances))
        {
            return;
        }

        foreach (var lockPath in Directory.GetFiles(instances, "*.lock"))
        {
            try
            {
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(lockPath) >= TimeSpan.FromMinutes(1) && !LockFile.IsHeld(lockPath))
                {
                    File.Delete(lockPath);
                }
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>The container folders (`sbx-*`) in <paramref name="folder"/>, by name; none when it does not exist.</summary>
    private static IEnumerable<string> NamesIn(string folder) =>
        Directory.Exists(folder) ? Directory.GetDirectories(folder, "sbx-*").Select(d => Path.GetFileName(d)) : [];

    private static void Stop(string lxcPath, string name, ILogger logger)
    {
        // lxc-stop's own messages ("... is not running" when its runner stopped it meanwhile) go to our log, not
        // to the stderr of whatever command is starting.
        var stop = new System.Diagnostics.ProcessStartInfo("lxc-stop", ["-P", lxcPath, "-n", name, "-k"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var said = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using (var p = new System.Diagnostics.Process { StartInfo = stop })
        {
            p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) { said.Enqueue(line); } };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) { said.Enqueue(line); } };
            p.Start();
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            p.WaitForExit(TimeSpan.FromSeconds(30));
        }

        if (!said.IsEmpty)
        {
            logger.LogDebug("lxc-stop {Name}: {Output}", name, string.Join(" / ", said));
        }
    }

    /// <summary>
    /// Removes empty cgroups LXC left for containers of dead runners (e.g. a monitor cgroup after a failed start).
    /// rmdir only ever removes an empty cgroup, so a live container's cgroup cannot be harmed.
    /// </summary>
    private static void SweepStaleCgroups(SandboxOptions options)
    {
        if (!Directory.Exists(options.CgroupRoot))
        {
            return;
        }

        var roots = Directory.GetDirectories(options.CgroupRoot).Append(options.CgroupRoot);
        foreach (var root in roots)
        {
            foreach (var dir in Subdirectories(root, "lxc.*.sbx-*"))
            {
                var parts = Path.GetFileName(dir).Split('-');
                if (parts.Length != 4 || LockFile.IsHeld(InstanceLock(options.RuntimeDirectory, parts[1])))
                {
                    continue;
                }

                // The run cgroup ("run", or "run-N" where each run gets its own) and the agent's (v2).
                foreach (var child in Subdirectories(dir, "*"))
                {
                    CgroupDriver.RemoveDirectory(child, attempts: 1);
                }

                CgroupDriver.RemoveDirectory(dir, attempts: 1);
            }
        }
    }

    private static string[] Subdirectories(string dir, string pattern)
    {
        try
        {
            return Directory.GetDirectories(dir, pattern);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Whether any runner on this machine is alive (holds its instance lock).</summary>
    internal static bool AnyRunnerAlive(string runtimeDirectory)
    {
        var instances = InstancesDirectory(runtimeDirectory);
        return Directory.Exists(instances) && Directory.EnumerateFiles(instances, "*.lock").Any(LockFile.IsHeld);
    }

    private static string InstancesDirectory(string runtimeDirectory) => Path.Combine(runtimeDirectory, "instances");

    private static string InstanceLock(string runtimeDirectory, string instance) =>
        Path.Combine(InstancesDirectory(runtimeDirectory), instance + ".lock");

    private void DisposeContainers()
    {
        Parallel.ForEach(_containers, c => c?.Dispose());
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _disposing.CancelAsync();
        _free.Writer.TryComplete();
        DisposeContainers();
        _image.InUse.Dispose();
        var lockPath = _instanceLock.Name;
        _instanceLock.Dispose();
        try
        {
            File.Delete(lockPath);
        }
        catch (IOException)
        {
        }

        _disposing.Dispose();
    }
}
