using Sandbox.Runner;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// The LXC containers a <c>sandbox</c> process owns. Each engine holds a lock file <c>RUNTIME/instances/ID.lock</c>
/// open for its life and names its containers <c>sbx-ID-SLOT-GEN</c>; other people's engines on this machine have
/// other ids, so a test can tell its process's containers apart from theirs.
/// </summary>
internal static class SandboxContainers
{
    private static readonly SandboxOptions Defaults = new();

    /// <summary>The engine instance ids the live process <paramref name="pid"/> holds (none before it starts an engine).</summary>
    public static IReadOnlyList<string> InstancesOf(int pid)
    {
        var instances = Path.Combine(Defaults.RuntimeDirectory, "instances") + "/";
        var ids = new List<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith(instances, StringComparison.Ordinal) && target.EndsWith(".lock", StringComparison.Ordinal))
            {
                ids.Add(Path.GetFileNameWithoutExtension(target));
            }
        }

        return ids;
    }

    /// <summary>The containers (running or not) that engine instance <paramref name="id"/> has on disk.</summary>
    public static IReadOnlyList<string> ContainersOf(string id)
    {
        var lxc = Path.Combine(Defaults.StateDirectory, "lxc");
        return Directory.Exists(lxc) ? [.. Directory.EnumerateDirectories(lxc, $"sbx-{id}-*").Select(Path.GetFileName)!] : [];
    }

    /// <summary>Asserts that <paramref name="id"/>'s containers are gone (called once its process has exited).</summary>
    public static void AssertNoneLeft(string id) =>
        Assert.True(ContainersOf(id).Count == 0, $"engine {id} left containers behind: {string.Join(", ", ContainersOf(id))}");
}
