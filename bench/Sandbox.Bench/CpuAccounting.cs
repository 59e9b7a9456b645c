using System.Globalization;

namespace Sandbox.Bench;

/// <summary>
/// Where the CPU time of a throughput run went, from /proc: this process (the host side of every run, or the bare
/// spawner), the sandbox agents (each container's init), the programs they ran (reaped by the agents, or by this
/// process for bare runs: the children's time), and the whole machine.
/// </summary>
internal static class CpuAccounting
{
    private static readonly double TickMicros = 1e6 / 100; // USER_HZ is 100 on Linux

    /// <summary>CPU ticks so far, or between two samples.</summary>
    public readonly record struct Sample(long HostSelf, long HostChildren, long AgentSelf, long AgentChildren, long MachineBusy)
    {
        public static Sample operator -(Sample a, Sample b) =>
            new(a.HostSelf - b.HostSelf, a.HostChildren - b.HostChildren, a.AgentSelf - b.AgentSelf, a.AgentChildren - b.AgentChildren, a.MachineBusy - b.MachineBusy);

        public static Sample operator +(Sample a, Sample b) =>
            new(a.HostSelf + b.HostSelf, a.HostChildren + b.HostChildren, a.AgentSelf + b.AgentSelf, a.AgentChildren + b.AgentChildren, a.MachineBusy + b.MachineBusy);
    }

    public static Sample Take()
    {
        var (hostSelf, hostChildren) = Times("self");
        long agentSelf = 0, agentChildren = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var pid = Path.GetFileName(dir);
            if (!pid.All(char.IsAsciiDigit) || !IsAgent(pid))
            {
                continue;
            }

            var (self, children) = Times(pid);
            agentSelf += self;
            agentChildren += children;
        }

        // The first line of /proc/stat: user nice system idle iowait irq softirq steal ...; busy = all but idle and iowait.
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        return new Sample(hostSelf, hostChildren, agentSelf, agentChildren, cpu.Take(8).Sum() - cpu[3] - cpu[4]);
    }

    /// <summary>CPU microseconds per run in <paramref name="spent"/> (a difference of samples), as one line.</summary>
    public static string PerRun(Sample spent, long runs, bool sandboxed)
    {
        string Us(long ticks) => (ticks * TickMicros / Math.Max(1, runs)).ToString("0", CultureInfo.InvariantCulture).PadLeft(5);
        // Bare runs are this process's own children; sandboxed ones are the agents' children.
        return $"host {Us(spent.HostSelf)}  agents {Us(spent.AgentSelf)}  programs {Us(sandboxed ? spent.AgentChildren : spent.HostChildren)}  machine {Us(spent.MachineBusy)}";
    }

    private static bool IsAgent(string pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").StartsWith("/sandbox/agent\0", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // gone meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>utime + stime and cutime + cstime of a process, in ticks.</summary>
    private static (long Self, long Children) Times(string pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name (which may hold spaces) start with field 3, the state.
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            long F(int field) => long.Parse(f[field - 3], CultureInfo.InvariantCulture);
            return (F(14) + F(15), F(16) + F(17));
        }
        catch (IOException)
        {
            return (0, 0);
        }
    }
}
