using System.Diagnostics;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Isolation;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// The cgroup v2 side of cleanup and accounting, on a cgroup v1 machine: the kill runs for real on the kernel's
/// unified hierarchy (mounted here without controllers, which cgroup.kill and cgroup.freeze do not need); the
/// driver's files (limits, counters, controller delegation) are checked against a fake tree.
/// </summary>
[Trait("Category", "Sandbox")]
public sealed class CleanupCgroupV2Tests
{
    private static string? UnifiedRoot() =>
        new[] { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" }.FirstOrDefault(r => File.Exists(Path.Combine(r, "cgroup.controllers")));

    [Fact]
    public async Task KillAll_OnARealV2Cgroup_KillsSetsidAndDoubleForkedProcesses()
    {
        var unified = UnifiedRoot();
        Assert.True(unified is not null, "no cgroup v2 hierarchy is mounted on this machine");
        var parent = Path.Combine(unified, "sandbox-cleanup-test-" + Guid.NewGuid().ToString("N")[..8]);
        var dir = Path.Combine(parent, "run");
        Directory.CreateDirectory(dir);
        try
        {
            Assert.True(File.Exists(Path.Combine(dir, "cgroup.kill")) || File.Exists(Path.Combine(dir, "cgroup.freeze")), "this kernel has neither cgroup.kill nor cgroup.freeze");
            // The tree starts only once its root is in the cgroup, so every process it makes is born there.
            var psi = new ProcessStartInfo("bash", ["-c", "read go; sleep 1000 & setsid sleep 1000 & ( ( setsid sleep 1000 & ) & ); trap '' TERM; echo ready; exec sleep 1000"])
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
            };
            using var tree = Process.Start(psi)!;
            await File.WriteAllTextAsync(Path.Combine(dir, "cgroup.procs"), tree.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await tree.StandardInput.WriteLineAsync("go");
            await tree.StandardInput.FlushAsync();
            Assert.Equal("ready", await tree.StandardOutput.ReadLineAsync());
            var members = (await File.ReadAllLinesAsync(Path.Combine(dir, "cgroup.procs"))).Length;
            Assert.True(members >= 4, $"only {members} processes joined the cgroup");

            using var run = new RunCgroupV2(dir);
            Assert.False(run.IsEmpty());
            run.KillAll();

            var clock = Stopwatch.StartNew();
            while (!run.IsEmpty() && clock.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(5);
            }

            Assert.True(run.IsEmpty(), "processes survived cgroup.kill: " + await File.ReadAllTextAsync(Path.Combine(dir, "cgroup.procs")));
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await tree.WaitForExitAsync(exited.Token);
            Assert.Equal(137, tree.ExitCode); // killed by SIGKILL: the TERM trap did not matter
        }
        finally
        {
            CgroupDriver.RemoveDirectory(dir);
            CgroupDriver.RemoveDirectory(parent);
        }
    }

    [Fact]
    public async Task V2Driver_OnAFakeTree_DelegatesControllersAppliesLimitsAndCounts()
    {
        var root = Directory.CreateTempSubdirectory("sandbox-fake-cgroup2-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "cgroup.controllers"), "cpuset cpu io memory hugetlb pids rdma misc\n");
            var driver = CgroupDriver.Detect(root);
            Assert.Equal(CgroupVersion.V2, driver.Version);

            var max = new ResourceLimits();
            var config = driver.LxcConfig(max, extraProcesses: 8);
            Assert.Contains("lxc.cgroup2.memory.swap.max = 0", config, StringComparison.Ordinal);
            Assert.Contains($"lxc.cgroup2.pids.max = {max.Processes + 8}", config, StringComparison.Ordinal);

            // The "container" is this test process's own unified cgroup path, mirrored in the fake tree; the kernel
            // would create a new cgroup's interface files, the fake tree needs them made by hand.
            var relative = (await File.ReadAllLinesAsync("/proc/self/cgroup")).Single(l => l.StartsWith("0::", StringComparison.Ordinal))[3..].TrimStart('/');
            var container = Path.Combine(root, relative);
            var runDir = Path.Combine(container, "run");
            Directory.CreateDirectory(runDir);
            foreach (var (file, text) in new[]
            {
                ("cgroup.procs", ""), ("cgroup.kill", ""), ("memory.peak", "999999999\n"), ("memory.max", "max\n"), ("memory.swap.max", "max\n"), ("pids.max", "max\n"), ("cpu.stat", "usage_usec 1000\nuser_usec 600\n"),
                ("memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n"),
            })
            {
                await File.WriteAllTextAsync(Path.Combine(runDir, file), text);
            }

            using var run = driver.CreateRunGroup(Environment.ProcessId);
            // "No internal processes": the container's init moves to a leaf before its cgroup delegates controllers.
            Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(Path.Combine(container, "agent", "cgroup.procs")));
            Assert.Equal("+memory +pids +cpu", await File.ReadAllTextAsync(Path.Combine(container, "cgroup.subtree_control")));
            Assert.Equal(container, run.ContainerDirectory);

            var limits = max with { MemoryBytes = 64L << 20, Processes = 10 };
            run.Apply(limits);
            Assert.Equal((64L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(Path.Combine(runDir, "memory.max")));
            Assert.Equal("0", await File.ReadAllTextAsync(Path.Combine(runDir, "memory.swap.max")));
            Assert.Equal("10", await File.ReadAllTextAsync(Path.Combine(runDir, "pids.max")));

            var start = run.Begin();
            // What the kernel would show after a run that used 50 ms of CPU, peaked at 60 MiB and was OOM-killed once.
            await File.WriteAllTextAsync(Path.Combine(runDir, "cpu.stat"), "usage_usec 51000\nuser_usec 30000\n");
            await File.WriteAllTextAsync(Path.Combine(runDir, "memory.peak"), (60L << 20).ToString(System.Globalization.CultureInfo.InvariantCulture) + "\n");
            await File.WriteAllTextAsync(Path.Combine(runDir, "memory.events"), "low 0\nhigh 0\nmax 9\noom 2\noom_kill 3\n");
            var used = run.End(start);
            Assert.Equal(50_000_000, used.CpuNanoseconds);
            Assert.Equal(60L << 20, used.PeakMemoryBytes);
            Assert.Equal(1, used.OomKills);

            Assert.True(run.IsEmpty());
            await File.WriteAllTextAsync(Path.Combine(runDir, "cgroup.procs"), "4242\n");
            Assert.False(run.IsEmpty());
            run.KillAll();
            Assert.Equal("1", await File.ReadAllTextAsync(Path.Combine(runDir, "cgroup.kill")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Detect_V2WithoutMemoryOrPids_StopsWithTheFix()
    {
        var root = Directory.CreateTempSubdirectory("sandbox-fake-cgroup2-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(root, "cgroup.controllers"), "cpu io\n");
            var error = Assert.Throws<SandboxUnavailableException>(() => CgroupDriver.Detect(root));
            Assert.Contains("memory or pids", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
