using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Runner.Isolation;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// What a starting runner removes of runners that are gone: their containers' control folders too, also one whose
/// configuration folder is already gone, and their instance locks, never a live runner's, and never by recursing into
/// a folder a container could write.
/// </summary>
public sealed class SweepTests
{
    [Fact]
    public void ControlFolders_OfGoneRunners_AreRemoved_ALiveRunnersAndPlantedContentStay()
    {
        var root = Directory.CreateTempSubdirectory("sandbox-sweep-").FullName;
        try
        {
            var options = new SandboxOptions
            {
                StateDirectory = Path.Combine(root, "state"),
                RuntimeDirectory = Path.Combine(root, "run"),
                CgroupRoot = Path.Combine(root, "cgroup"),
            };
            var ctl = Path.Combine(options.RuntimeDirectory, "ctl");
            var lxc = Path.Combine(options.StateDirectory, "lxc");
            var instances = Path.Combine(options.RuntimeDirectory, "instances");
            Directory.CreateDirectory(instances);
            Directory.CreateDirectory(options.CgroupRoot);

            // A runner killed after it removed the configuration folder: only the empty control folder is left.
            Directory.CreateDirectory(Path.Combine(ctl, "sbx-dead0001-0-1"));
            // Killed before: both folders, the agent's socket still in the control folder.
            Directory.CreateDirectory(Path.Combine(lxc, "sbx-dead0002-1-1"));
            Directory.CreateDirectory(Path.Combine(ctl, "sbx-dead0002-1-1"));
            File.WriteAllText(Path.Combine(ctl, "sbx-dead0002-1-1", "agent.sock"), "");
            // Something else in a container-writable folder: never recursed into, so the folder stays.
            Directory.CreateDirectory(Path.Combine(ctl, "sbx-dead0003-0-1"));
            File.WriteAllText(Path.Combine(ctl, "sbx-dead0003-0-1", "planted"), "");
            // A live runner's container (its instance lock held) and a folder that is not a container's.
            Directory.CreateDirectory(Path.Combine(ctl, "sbx-live0004-0-1"));
            Directory.CreateDirectory(Path.Combine(ctl, "unrelated"));
            using var live = new FileStream(Path.Combine(instances, "live0004.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None);
            File.SetLastWriteTimeUtc(Path.Combine(instances, "live0004.lock"), DateTime.UtcNow.AddHours(-1));
            // Instance locks without containers: a runner killed while starting (an hour ago), and one just made,
            // which its runner may be about to lock.
            File.WriteAllText(Path.Combine(instances, "dead0005.lock"), "");
            File.SetLastWriteTimeUtc(Path.Combine(instances, "dead0005.lock"), DateTime.UtcNow.AddHours(-1));
            File.WriteAllText(Path.Combine(instances, "new00006.lock"), "");

            SlotPool.SweepStale(options, NullLogger.Instance);

            Assert.False(Directory.Exists(Path.Combine(ctl, "sbx-dead0001-0-1")));
            Assert.False(Directory.Exists(Path.Combine(ctl, "sbx-dead0002-1-1")));
            Assert.False(Directory.Exists(Path.Combine(lxc, "sbx-dead0002-1-1")));
            Assert.True(File.Exists(Path.Combine(ctl, "sbx-dead0003-0-1", "planted")));
            Assert.True(Directory.Exists(Path.Combine(ctl, "sbx-live0004-0-1")));
            Assert.True(Directory.Exists(Path.Combine(ctl, "unrelated")));
            Assert.Equal(
                ["live0004.lock", "new00006.lock"],
                Directory.EnumerateFiles(instances).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
