using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Runner.Isolation;
using Sandbox.Runner.Tests.Exploits.Infrastructure;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Isolation;

/// <summary>
/// Old root file systems and seccomp profiles go once no runner uses them: a runner leases what it uses, provisioning
/// removes what nobody leases (and what a provisioner that died left half built or half removed), one from before
/// leases only when no runner is alive, and nothing is followed through a link.
/// </summary>
public sealed class ProvisionedFilesTests
{
    private const string Kept = "rootfs-cccccccccccccccc";

    [Fact]
    public void Unleased_RootsAndProfiles_AreRemoved_LeasedOnesAndLinkedFoldersStay()
    {
        var root = Directory.CreateTempSubdirectory("sandbox-provisioned-").FullName;
        try
        {
            var (state, runtime) = Layout(root);
            // Used by a runner that is gone (its lease file is left, unlocked), with a link to a folder outside.
            var outside = Directory.CreateDirectory(Path.Combine(root, "outside")).FullName;
            File.WriteAllText(Path.Combine(outside, "precious"), "x");
            var gone = MakeRoot(state, "rootfs-aaaaaaaaaaaaaaaa", leaseFile: true);
            Directory.CreateSymbolicLink(Path.Combine(gone, "escape"), outside);
            MakeProfile(state, "sandbox-aaaaaaaaaaaaaaaa.seccomp", leaseFile: true);
            // Used by a live runner.
            var leased = MakeRoot(state, "rootfs-bbbbbbbbbbbbbbbb", leaseFile: false);
            var leasedProfile = MakeProfile(state, "sandbox-bbbbbbbbbbbbbbbb.seccomp", leaseFile: false);
            using var lease = ProvisionedFiles.Lease([leased, leasedProfile]);
            // This provisioner's own.
            MakeRoot(state, Kept, leaseFile: false);
            // Left half built and half removed by provisioners that died.
            MakeRoot(state, "rootfs-dddddddddddddddd.4242.new", leaseFile: false);
            MakeRoot(state, "rootfs-eeeeeeeeeeeeeeee.4243.old", leaseFile: false);
            // A link with a root's name, and names that are not roots or profiles.
            Directory.CreateSymbolicLink(Path.Combine(state, "rootfs-ffffffffffffffff"), outside);
            Directory.CreateDirectory(Path.Combine(state, "lxc"));
            Directory.CreateDirectory(Path.Combine(state, "rootfs-notes"));
            File.WriteAllText(Path.Combine(state, "provision.lock"), "");

            var removed = ProvisionedFiles.RemoveUnused(state, runtime, [Path.Combine(state, Kept)], NullLogger.Instance);

            Assert.Equal(
                ["rootfs-aaaaaaaaaaaaaaaa", "rootfs-dddddddddddddddd.4242.new", "rootfs-eeeeeeeeeeeeeeee.4243.old", "sandbox-aaaaaaaaaaaaaaaa.seccomp"],
                removed.Order(StringComparer.Ordinal));
            Assert.Equal(
                ["lxc", "provision.lock", "rootfs-bbbbbbbbbbbbbbbb", "rootfs-bbbbbbbbbbbbbbbb.use", Kept, "rootfs-ffffffffffffffff", "rootfs-notes",
                    "sandbox-bbbbbbbbbbbbbbbb.seccomp", "sandbox-bbbbbbbbbbbbbbbb.seccomp.use"],
                Directory.EnumerateFileSystemEntries(state).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.True(File.Exists(Path.Combine(outside, "precious")));
            Assert.True(File.Exists(Path.Combine(leased, "etc", "passwd")));

            // Once the runner is gone, its root and profile go too.
            lease.Dispose();
            Assert.Equal(
                ["rootfs-bbbbbbbbbbbbbbbb", "sandbox-bbbbbbbbbbbbbbbb.seccomp"],
                ProvisionedFiles.RemoveUnused(state, runtime, [Path.Combine(state, Kept)], NullLogger.Instance).Order(StringComparer.Ordinal));
            Assert.False(File.Exists(leasedProfile + ".use"));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void RootsFromBeforeLeases_GoOnlyWhenNoRunnerIsAlive()
    {
        var root = Directory.CreateTempSubdirectory("sandbox-provisioned-").FullName;
        try
        {
            var (state, runtime) = Layout(root);
            MakeRoot(state, "rootfs-1111111111111111", leaseFile: false);
            MakeProfile(state, "sandbox-1111111111111111.seccomp", leaseFile: false);
            var instances = Directory.CreateDirectory(Path.Combine(runtime, "instances")).FullName;
            // A runner that is gone left its instance lock file; a live one holds its own.
            File.WriteAllText(Path.Combine(instances, "dead0001.lock"), "");
            var live = new FileStream(Path.Combine(instances, "live0002.lock"), FileMode.Create, FileAccess.ReadWrite, FileShare.None);

            Assert.Empty(ProvisionedFiles.RemoveUnused(state, runtime, [], NullLogger.Instance));
            Assert.True(Directory.Exists(Path.Combine(state, "rootfs-1111111111111111")));

            live.Dispose();
            Assert.Equal(
                ["rootfs-1111111111111111", "sandbox-1111111111111111.seccomp"],
                ProvisionedFiles.RemoveUnused(state, runtime, [], NullLogger.Instance).Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static (string State, string Runtime) Layout(string root) =>
        (Directory.CreateDirectory(Path.Combine(root, "state")).FullName, Directory.CreateDirectory(Path.Combine(root, "run")).FullName);

    private static string MakeRoot(string state, string name, bool leaseFile)
    {
        var path = Path.Combine(state, name);
        Directory.CreateDirectory(Path.Combine(path, "etc"));
        File.WriteAllText(Path.Combine(path, "etc", "passwd"), "root:x:0:0::/:/bin/false\n");
        File.CreateSymbolicLink(Path.Combine(path, "bin"), "usr/bin");
        if (leaseFile)
        {
            File.WriteAllText(path + ".use", "");
        }

        return path;
    }

    private static string MakeProfile(string state, string name, bool leaseFile)
    {
        var path = Path.Combine(state, name);
        File.WriteAllText(path, "2\nallowlist\n");
        if (leaseFile)
        {
            File.WriteAllText(path + ".use", "");
        }

        return path;
    }
}

/// <summary>The running engine's root file system and profile are leased, so no provisioner removes them.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class ProvisionedFilesInUseTests(SandboxFixture sandbox)
{
    [Fact]
    public void TheRunningEnginesRootAndProfile_AreLeased_AndSurviveRemoval()
    {
        var rootfs = HostSnapshot.RootFs(sandbox);
        var config = File.ReadAllLines(ConfigOf(sandbox));
        var profile = config.Single(l => l.StartsWith("lxc.seccomp.profile", StringComparison.Ordinal)).Split('=', 2)[1].Trim();

        foreach (var path in new[] { rootfs, profile })
        {
            Assert.True(File.Exists(path + ".use"), $"{path} has no lease file");
            Assert.Throws<IOException>(() => new FileStream(path + ".use", FileMode.Open, FileAccess.ReadWrite, FileShare.None).Dispose());
        }

        var removed = ProvisionedFiles.RemoveUnused(sandbox.Options.StateDirectory, sandbox.Options.RuntimeDirectory, [], NullLogger.Instance);

        Assert.DoesNotContain(Path.GetFileName(rootfs), removed);
        Assert.DoesNotContain(Path.GetFileName(profile), removed);
        Assert.True(Directory.Exists(Path.Combine(rootfs, "etc")));
        Assert.True(File.Exists(profile));
    }

    private static string ConfigOf(SandboxFixture sandbox)
    {
        var lxc = Path.Combine(sandbox.Options.StateDirectory, "lxc");
        return Directory.GetDirectories(lxc, $"sbx-{HostSnapshot.Instance(sandbox)}-*").Select(d => Path.Combine(d, "config")).First(File.Exists);
    }
}
