using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Sandbox.Runner.Execution;

namespace Sandbox.Runner.Isolation;

/// <summary>Which cgroup hierarchy the host runs.</summary>
public enum CgroupVersion
{
    /// <summary>Legacy per-controller hierarchies (memory, pids, cpuacct, freezer).</summary>
    V1,
    /// <summary>The unified hierarchy.</summary>
    V2,
}

/// <summary>What a run used, read from its cgroup (children that outlived the main process included).</summary>
internal readonly record struct CgroupUsage(long CpuNanoseconds, long PeakMemoryBytes, long OomKills);

/// <summary>Finds and manages per-run cgroups below each container's own cgroup.</summary>
internal abstract class CgroupDriver(string root)
{
    /// <summary>The cgroup file system root, normally /sys/fs/cgroup (a fake tree in tests).</summary>
    protected string Root { get; } = root;

    public abstract CgroupVersion Version { get; }

    /// <summary>Detects the host's hierarchy: unified when the root has cgroup.controllers with the controllers we need.</summary>
    public static CgroupDriver Detect(string root = "/sys/fs/cgroup")
    {
        var controllers = Path.Combine(root, "cgroup.controllers");
        if (File.Exists(controllers))
        {
            var available = File.ReadAllText(controllers).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (available.Contains("memory") && available.Contains("pids"))
            {
                return new CgroupV2Driver(root);
            }

            throw new SandboxUnavailableException($"cgroup v2 at {root} lacks the memory or pids controller; enable them (systemd: DefaultMemoryAccounting/DefaultTasksAccounting) and retry");
        }

        foreach (var controller in CgroupV1Driver.Controllers)
        {
            if (!File.Exists(Path.Combine(root, controller, "cgroup.procs")))
            {
                throw new SandboxUnavailableException($"cgroup v1 controller '{controller}' is not mounted at {Path.Combine(root, controller)}; mount it (or boot with the unified hierarchy) and retry");
            }
        }

        if (!File.Exists(Path.Combine(root, "memory", "memory.memsw.limit_in_bytes")))
        {
            throw new SandboxUnavailableException("swap accounting is off (no memory.memsw.*): boot with swapaccount=1 so memory limits include swap");
        }

        return new CgroupV1Driver(root);
    }

    /// <summary>The <c>lxc.cgroup*</c> lines capping a whole container at the configured maximum.</summary>
    public abstract string LxcConfig(ResourceLimits max, int extraProcesses);

    /// <summary>Creates (or reuses) the run cgroup below the container whose init has <paramref name="initPid"/>.</summary>
    public abstract RunCgroup CreateRunGroup(int initPid);

    /// <summary>The container's cgroup paths per controller, from /proc/PID/cgroup (host view).</summary>
    protected static Dictionary<string, string> ReadProcCgroups(int pid, string procRoot = "/proc")
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines(Path.Combine(procRoot, pid.ToString(CultureInfo.InvariantCulture), "cgroup")))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3)
            {
                continue;
            }

            foreach (var controller in parts[1].Split(','))
            {
                map[controller] = parts[2];
            }
        }

        return map;
    }

    internal static void WriteValue(string file, string value) => File.WriteAllText(file, value);

    internal static long ReadLong(string file) => long.Parse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture);

    internal static long ReadKey(string file, string key)
    {
        foreach (var line in File.ReadLines(file))
        {
            var parts = line.Split(' ', 2);
            if (parts.Length == 2 && parts[0] == key)
            {
                return long.Parse(parts[1].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>rmdir a cgroup; the kernel can say EBUSY for a few ms after its last task exits.</summary>
    internal static void RemoveDirectory(string path, int attempts = 50)
    {
        for (var attempt = 0; attempt < attempts; attempt++)
        {
            try
            {
                if (Directory.Exists(path))
                {
                    Directory.Delete(path, recursive: false);
                }

                return;
            }
            catch (IOException) when (attempt < attempts - 1)
            {
                Thread.Sleep(2);
            }
            catch (IOException)
            {
                // Still busy (or not empty): left for a later sweep.
            }
        }
    }
}

/// <summary>One run's cgroup (in every hierarchy it needs). Reused across the runs of one container.</summary>
internal abstract class RunCgroup : IDisposable
{
    /// <summary>Descriptors of the files the agent's child writes "0" to, to join (v1: <c>tasks</c>; v2: <c>cgroup.procs</c>).</summary>
    public abstract IReadOnlyList<SafeFileHandle> ProcsHandles { get; }

    /// <summary>The container's own cgroup (parent of the run cgroup); LXC removes it when the container stops.</summary>
    public abstract string ContainerDirectory { get; }

    private readonly List<CgroupFile> _files = [];
    private long _appliedMemory = -1;
    private long _appliedProcesses = -1;

    /// <summary>
    /// Makes the run cgroup ready for the next run and sets memory (no swap beyond it) and process limits; only what
    /// changed since the last call is written. Called before every run, ahead of <see cref="Begin"/>.
    /// </summary>
    public void Apply(ResourceLimits limits)
    {
        PrepareRun();
        if (_appliedMemory != limits.MemoryBytes)
        {
            _appliedMemory = -1;
            SetMemoryLimit(limits.MemoryBytes);
            _appliedMemory = limits.MemoryBytes;
        }

        if (_appliedProcesses != limits.Processes)
        {
            _appliedProcesses = -1;
            SetProcessLimit(limits.Processes);
            _appliedProcesses = limits.Processes;
        }
    }

    /// <summary>What a run cgroup must do before a run joins it (v2 before Linux 6.12: move to a fresh cgroup).</summary>
    protected virtual void PrepareRun()
    {
    }

    /// <summary>The cgroup was replaced by a new one: nothing is applied to it, and its counters start afresh.</summary>
    protected void Replaced()
    {
        _appliedMemory = -1;
        _appliedProcesses = -1;
        _afterLastRun = null;
    }

    protected abstract void SetMemoryLimit(long bytes);

    protected abstract void SetProcessLimit(long processes);

    /// <summary>An interface file of this run cgroup, closed with it.</summary>
    protected CgroupFile OpenFile(string path, bool writable)
    {
        var opened = new CgroupFile(path, writable);
        _files.Add(opened);
        return opened;
    }

    /// <summary>Closes what <see cref="OpenFile"/> opened.</summary>
    protected void CloseFiles()
    {
        foreach (var f in _files)
        {
            f.Dispose();
        }

        _files.Clear();
    }

    // The CPU and OOM-kill counters as the last End read them. Nothing runs in the run cgroup between two runs, so
    // they are the next run's starting point, which saves reading (or resetting) them before every run. Begin takes
    // them, so a run that never reached End (it failed on the way) makes the next Begin read afresh.
    private CgroupUsage? _afterLastRun;

    /// <summary>Resets the peak counter and takes the CPU and OOM-kill counters a run starts from.</summary>
    public CgroupUsage Begin()
    {
        ResetPeak();
        var start = _afterLastRun ?? ReadCounters();
        _afterLastRun = null;
        return start;
    }

    /// <summary>Reads counters after a run; values are relative to <see cref="Begin"/>.</summary>
    public CgroupUsage End(CgroupUsage start)
    {
        var now = ReadCounters();
        _afterLastRun = now;
        return new CgroupUsage(now.CpuNanoseconds - start.CpuNanoseconds, ReadPeak(), now.OomKills - start.OomKills);
    }

    /// <summary>Starts a new peak-memory measurement.</summary>
    protected abstract void ResetPeak();

    /// <summary>Peak memory (swap included) since <see cref="ResetPeak"/>; -1 when this kernel cannot tell.</summary>
    protected abstract long ReadPeak();

    /// <summary>CPU time and OOM kills so far (peak unused): monotonic counters of the run cgroup.</summary>
    protected abstract CgroupUsage ReadCounters();

    /// <summary>Kills every process of the run (the program cannot escape it: its cgroup fs is read-only).</summary>
    public abstract void KillAll();

    /// <summary>True when no process is left in the run cgroup (read through a descriptor opened once).</summary>
    public abstract bool IsEmpty();

    /// <summary>Removes the run cgroup directories.</summary>
    public abstract void Dispose();

    protected static void KillPids(string procsFile)
    {
        foreach (var line in File.ReadAllLines(procsFile))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                Native.kill(pid, 9);
            }
        }
    }
}

internal sealed class CgroupV1Driver(string root) : CgroupDriver(root)
{
    public static readonly string[] Controllers = ["memory", "pids", "cpuacct", "freezer"];

    public override CgroupVersion Version => CgroupVersion.V1;

    public override string LxcConfig(ResourceLimits max, int extraProcesses)
    {
        // The container as a whole: the agent plus one run at its largest. Runs get their own, lower limits.
        var memory = max.MemoryBytes + (64L * 1024 * 1024) + max.DiskBytes;
        return string.Join('\n',
            $"lxc.cgroup.memory.limit_in_bytes = {memory}",
            $"lxc.cgroup.memory.memsw.limit_in_bytes = {memory}",
            $"lxc.cgroup.pids.max = {max.Processes + extraProcesses}");
    }

    public override RunCgroup CreateRunGroup(int initPid)
    {
        var paths = ReadProcCgroups(initPid);
        var dirs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var controller in Controllers)
        {
            if (!paths.TryGetValue(controller, out var relative))
            {
                throw new SandboxUnavailableException($"container init {initPid} is in no '{controller}' cgroup");
            }

            var dir = Path.Combine(Root, controller, relative.TrimStart('/'), "run");
            Directory.CreateDirectory(dir);
            dirs[controller] = dir;
        }

        return new RunCgroupV1(dirs);
    }
}

internal sealed class RunCgroupV1 : RunCgroup
{
    private readonly Dictionary<string, string> _dirs;
    private readonly List<SafeFileHandle> _procs = [];
    private readonly CgroupFile _limit;
    private readonly CgroupFile _memswLimit;
    private readonly CgroupFile _pidsMax;
    private readonly CgroupFile _memswMaxUsage;
    private readonly CgroupFile _cpuUsage;
    private readonly CgroupFile _oomControl;
    private readonly CgroupFile _pidsCurrent;

    public RunCgroupV1(Dictionary<string, string> dirs)
    {
        _dirs = dirs;
        try
        {
            // The program joins memory, pids and cpuacct; not the freezer (KillAll freezes the whole container, which
            // saves a join per run). It joins through `tasks`, not `cgroup.procs`: the agent's child is a single thread
            // moving itself, which the kernel does without write-locking the global threadgroup rwsem. Through
            // cgroup.procs every join that is not right after another waits for an RCU grace period (measured: 10 ms
            // p50, up to 30 ms).
            foreach (var controller in new[] { "memory", "pids", "cpuacct" })
            {
                _procs.Add(File.OpenHandle(Path.Combine(dirs[controller], "tasks"), FileMode.Open, FileAccess.Write));
            }

            _limit = Open("memory", "memory.limit_in_bytes");
            _memswLimit = Open("memory", "memory.memsw.limit_in_bytes");
            _pidsMax = Open("pids", "pids.max");
            _memswMaxUsage = Open("memory", "memory.memsw.max_usage_in_bytes");
            _cpuUsage = Open("cpuacct", "cpuacct.usage");
            _oomControl = Open("memory", "memory.oom_control");
            _pidsCurrent = OpenFile(Path.Combine(_dirs["pids"], "pids.current"), writable: false);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public override IReadOnlyList<SafeFileHandle> ProcsHandles => _procs;

    public override string ContainerDirectory => Path.GetDirectoryName(_dirs["memory"])!;

    private CgroupFile Open(string controller, string file) => OpenFile(Path.Combine(_dirs[controller], file), writable: true);

    protected override void SetMemoryLimit(long bytes)
    {
        // memsw must stay >= limit: the order that works depends on raising or lowering.
        try
        {
            _limit.Write(bytes);
            _memswLimit.Write(bytes);
        }
        catch (IOException)
        {
            _memswLimit.Write(bytes);
            _limit.Write(bytes);
        }
    }

    protected override void SetProcessLimit(long processes) => _pidsMax.Write(processes);

    // memory+swap is never below memory alone, so its peak is the run's peak (swap included).
    protected override void ResetPeak() => _memswMaxUsage.Write(0);

    protected override long ReadPeak() => _memswMaxUsage.ReadLong();

    protected override CgroupUsage ReadCounters() => new(_cpuUsage.ReadLong(), 0, _oomControl.ReadKey("oom_kill"));

    public override void KillAll()
    {
        // The container's freezer cgroup (the run cgroup's parent): the agent freezes with the run for the moment
        // of the kill, which it never notices (it is waiting for the run), and no run has to join a freezer cgroup.
        var freezer = Path.Combine(Path.GetDirectoryName(_dirs["freezer"])!, "freezer.state");
        var procs = Path.Combine(_dirs["pids"], "cgroup.procs");
        // Freeze first so nothing can fork between reading the list and the signals.
        CgroupDriver.WriteValue(freezer, "FROZEN");
        try
        {
            for (var i = 0; i < 100 && File.ReadAllText(freezer).Trim() != "FROZEN"; i++)
            {
                Thread.Sleep(1);
            }

            KillPids(procs);
        }
        finally
        {
            CgroupDriver.WriteValue(freezer, "THAWED");
        }
    }

    // Not cgroup.procs: v1 keeps the pid list it built for an open file and serves it again to later reads of that
    // file (for about a second), so a descriptor kept open would see stale members. pids.current is a plain counter.
    public override bool IsEmpty() => _pidsCurrent.ReadLong() == 0;

    public override void Dispose()
    {
        foreach (var h in _procs)
        {
            h.Dispose();
        }

        _procs.Clear();
        CloseFiles();
    }
}

internal sealed class CgroupV2Driver(string root) : CgroupDriver(root)
{
    public override CgroupVersion Version => CgroupVersion.V2;

    public override string LxcConfig(ResourceLimits max, int extraProcesses)
    {
        var memory = max.MemoryBytes + (64L * 1024 * 1024) + max.DiskBytes;
        return string.Join('\n',
            $"lxc.cgroup2.memory.max = {memory}",
            "lxc.cgroup2.memory.swap.max = 0",
            $"lxc.cgroup2.pids.max = {max.Processes + extraProcesses}");
    }

    public override RunCgroup CreateRunGroup(int initPid)
    {
        var paths = ReadProcCgroups(initPid);
        if (!paths.TryGetValue("", out var relative))
        {
            throw new SandboxUnavailableException($"container init {initPid} is in no unified cgroup");
        }

        var container = Path.Combine(Root, relative.TrimStart('/'));
        // "No internal processes": a cgroup that enables controllers for its children cannot hold tasks itself,
        // so the agent moves to a leaf of its own before the run cgroup gets memory and pids.
        var agent = Path.Combine(container, "agent");
        if (!container.EndsWith("/agent", StringComparison.Ordinal))
        {
            Directory.CreateDirectory(agent);
            WriteValue(Path.Combine(agent, "cgroup.procs"), initPid.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            container = Path.GetDirectoryName(container)!;
        }

        WriteValue(Path.Combine(container, "cgroup.subtree_control"), "+memory +pids +cpu");
        var run = Path.Combine(container, "run");
        Directory.CreateDirectory(run);
        return new RunCgroupV2(run);
    }
}

internal sealed class RunCgroupV2 : RunCgroup
{
    private readonly string _container;
    private readonly List<string> _leftBehind = [];
    // Linux 5.19 added memory.peak; before it the kernel keeps no peak at all (the agent's figure stands in).
    private readonly bool _hasPeak;
    private string _dir;
    private CgroupFile _memoryMax = null!;
    private CgroupFile _swapMax = null!;
    private CgroupFile _pidsMax = null!;
    private CgroupFile _cpuStat = null!;
    private CgroupFile _memoryEvents = null!;
    private CgroupFile _members = null!;
    private CgroupFile? _peak;
    // memory.peak is the cgroup's lifetime peak until Linux 6.12 made it resettable. Where it cannot be reset, every
    // run gets a cgroup of its own (made just before it, the last one removed), so the peak is the run's: otherwise
    // a run would report the largest peak of any run before it on its slot, and a SIGKILL after a big run would
    // read as a memory-limit verdict.
    private bool _cgroupPerRun;
    private bool _used;
    private int _generation;

    public RunCgroupV2(string dir)
    {
        _dir = dir;
        _container = Path.GetDirectoryName(dir)!;
        _hasPeak = File.Exists(Path.Combine(dir, "memory.peak"));
        OpenFiles();
    }

    // One list per run cgroup: the agent connection sends it to the agent when it changes (compared by reference).
    public override IReadOnlyList<SafeFileHandle> ProcsHandles => _procsList;

    private IReadOnlyList<SafeFileHandle> _procsList = [];

    public override string ContainerDirectory => _container;

    private void OpenFiles()
    {
        _procsList = [File.OpenHandle(Path.Combine(_dir, "cgroup.procs"), FileMode.Open, FileAccess.Write)];
        try
        {
            _memoryMax = Open("memory.max", writable: true);
            _swapMax = Open("memory.swap.max", writable: true);
            _pidsMax = Open("pids.max", writable: true);
            _cpuStat = Open("cpu.stat", writable: false);
            _memoryEvents = Open("memory.events", writable: false);
            _members = Open("cgroup.procs", writable: false);
            _peak = _hasPeak ? Open("memory.peak", writable: true) : null;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private CgroupFile Open(string file, bool writable) => OpenFile(Path.Combine(_dir, file), writable);

    protected override void PrepareRun()
    {
        if (!_cgroupPerRun || !_used)
        {
            return;
        }

        // The last run's cgroup is empty: its processes were killed and reaped before the slot was given back (and
        // the pool checked). Fail closed if not: a process left there would be under no run's limits.
        if (!_members.IsEmpty())
        {
            throw new AgentException("processes of the last run are still in its cgroup");
        }

        var previous = _dir;
        _dir = Path.Combine(_container, "run-" + (++_generation).ToString(CultureInfo.InvariantCulture));
        System.IO.Directory.CreateDirectory(_dir);
        DisposeFiles();
        OpenFiles();
        Replaced();
        _used = false;
        _leftBehind.Add(previous);
        _leftBehind.RemoveAll(d => RemoveEmpty(d));
    }

    // The kernel can refuse for a few ms after the last task exits: a few tries now, again before the next run, and
    // LXC removes whatever is left with the container.
    private static bool RemoveEmpty(string dir)
    {
        CgroupDriver.RemoveDirectory(dir, attempts: 10);
        return !System.IO.Directory.Exists(dir);
    }

    protected override void SetMemoryLimit(long bytes)
    {
        _memoryMax.Write(bytes);
        _swapMax.Write(0);
    }

    protected override void SetProcessLimit(long processes) => _pidsMax.Write(processes);

    protected override void ResetPeak()
    {
        _used = true;
        if (_peak is null || _cgroupPerRun)
        {
            return;
        }

        // Since Linux 6.12 a write to memory.peak resets the peak seen through that descriptor. Where it cannot be,
        // this cgroup is still new (nothing has run in it): from the next run on, each gets a new one.
        try
        {
            _peak.Write("reset\n");
        }
        catch (IOException)
        {
            _cgroupPerRun = true;
        }
        catch (UnauthorizedAccessException)
        {
            _cgroupPerRun = true;
        }
    }

    protected override long ReadPeak() => _peak?.ReadLong() ?? -1;

    protected override CgroupUsage ReadCounters() => new(_cpuStat.ReadKey("usage_usec") * 1000, 0, _memoryEvents.ReadKey("oom_kill"));

    public override void KillAll()
    {
        var dir = _dir;
        var kill = Path.Combine(dir, "cgroup.kill");
        if (File.Exists(kill))
        {
            CgroupDriver.WriteValue(kill, "1");
            return;
        }

        // Before 5.14: freeze, kill, thaw.
        var freeze = Path.Combine(dir, "cgroup.freeze");
        CgroupDriver.WriteValue(freeze, "1");
        try
        {
            KillPids(Path.Combine(dir, "cgroup.procs"));
        }
        finally
        {
            CgroupDriver.WriteValue(freeze, "0");
        }
    }

    // v2 walks the cgroup's tasks afresh on every read from offset 0.
    public override bool IsEmpty() => _members.IsEmpty();

    public override void Dispose() => DisposeFiles();

    private void DisposeFiles()
    {
        foreach (var handle in _procsList)
        {
            handle.Dispose();
        }

        CloseFiles();
    }
}

/// <summary>
/// A cgroup interface file opened once and read or written in place (pread/pwrite at offset 0): a run touches a
/// handful of these, and opening, reading and closing each by path every run cost more than the rest of the run.
/// </summary>
internal sealed class CgroupFile(string path, bool writable) : IDisposable
{
    private SafeFileHandle? _opened;
    // Kernel interface files report a size of 0 after a write; only a regular file (a fake tree in tests) needs
    // truncating. Known after the first write, so a run's writes cost no fstat.
    private bool _interfaceFile;

    /// <summary>Opened on first use: a controller's files appear only once it is enabled for the cgroup.</summary>
    private SafeFileHandle Handle => _opened ??= File.OpenHandle(path, FileMode.Open, writable ? FileAccess.ReadWrite : FileAccess.Read);

    public void Write(long value) => Write(value.ToString(CultureInfo.InvariantCulture));

    public void Write(string value)
    {
        Span<byte> bytes = stackalloc byte[64];
        var n = System.Text.Encoding.ASCII.GetBytes(value, bytes);
        RandomAccess.Write(Handle, bytes[..n], 0);
        if (_interfaceFile)
        {
            return;
        }

        // A regular file keeps longer old content otherwise.
        var length = RandomAccess.GetLength(Handle);
        if (length > n)
        {
            RandomAccess.SetLength(Handle, n);
        }

        _interfaceFile = length == 0;
    }

    /// <summary>True when the file reads empty (cgroup.procs of a cgroup with no process).</summary>
    public bool IsEmpty()
    {
        Span<byte> buffer = stackalloc byte[16];
        return RandomAccess.Read(Handle, buffer, 0) == 0;
    }

    public long ReadLong()
    {
        Span<byte> buffer = stackalloc byte[64];
        var n = RandomAccess.Read(Handle, buffer, 0);
        return Parse(buffer[..n]);
    }

    /// <summary>The value of <paramref name="key"/> in a "key value" per line file, 0 when absent.</summary>
    public long ReadKey(string key)
    {
        Span<byte> buffer = stackalloc byte[2048];
        var n = RandomAccess.Read(Handle, buffer, 0);
        Span<byte> name = stackalloc byte[key.Length];
        System.Text.Encoding.ASCII.GetBytes(key, name);
        foreach (var range in ((ReadOnlySpan<byte>)buffer[..n]).Split((byte)'\n'))
        {
            var line = buffer[range];
            var space = line.IndexOf((byte)' ');
            if (space > 0 && line[..space].SequenceEqual(name))
            {
                return Parse(line[(space + 1)..]);
            }
        }

        return 0;
    }

    /// <summary>A decimal number with optional blanks around it, straight from the bytes (no string per read).</summary>
    private long Parse(ReadOnlySpan<byte> text)
    {
        text = text.Trim(" \t\n"u8);
        if (!System.Buffers.Text.Utf8Parser.TryParse(text, out long value, out var consumed) || consumed != text.Length || value < 0)
        {
            throw new FormatException($"{path}: not a number: '{System.Text.Encoding.ASCII.GetString(text)}'");
        }

        return value;
    }

    public override string ToString() => path;

    public void Dispose() => _opened?.Dispose();
}
