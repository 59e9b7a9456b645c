using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Sandbox.Runner.Execution;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// Which provisioned roots and seccomp profiles are in use, and the removal of those no runner uses any more.
/// A root file system (`rootfs-HASH`) or profile (`sandbox-HASH.seccomp`) is never changed once made, and a runner of
/// another version on the same machine may be using an older one, so provisioning never replaced them in place and
/// they piled up with every upgrade. Now a runner holds a shared lock on `NAME.use` beside each one it uses for as long
/// as it runs (<see cref="Lease"/>), and provisioning removes the ones nobody holds (<see cref="RemoveUnused"/>). Both
/// happen under the machine's provisioning lock, so no runner can take a lease on something being removed.
/// </summary>
internal static partial class ProvisionedFiles
{
    [GeneratedRegex("^rootfs-[0-9a-f]{16}$")]
    private static partial Regex RootName();

    [GeneratedRegex("^sandbox-[0-9a-f]{16}\\.seccomp$")]
    private static partial Regex ProfileName();

    // A root being built (`.PID.new`) or being removed (`.PID.old`) by a provisioner that died on the way.
    [GeneratedRegex("^rootfs-[0-9a-f]{16}\\.[0-9]+\\.(new|old)$")]
    private static partial Regex Leftover();

    /// <summary>
    /// Shared locks on <c>PATH.use</c> for every path, held until the result is disposed (or the process ends).
    /// Call with the provisioning lock held.
    /// </summary>
    public static IDisposable Lease(IEnumerable<string> paths)
    {
        var held = new Leases();
        try
        {
            foreach (var path in paths)
            {
                var handle = File.OpenHandle(path + ".use", FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite);
                held.Add(handle);
                // Only a provisioner removing it holds it exclusively, and that one holds the provisioning lock too.
                if (Native.flock(handle, Native.LOCK_SH | Native.LOCK_NB) != 0)
                {
                    throw new SandboxUnavailableException($"cannot lock {path}.use: {Native.LastError()}");
                }
            }

            return held;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Removes the roots and profiles in <paramref name="stateDirectory"/> that no runner holds a lease on, except
    /// <paramref name="keep"/>, and what a provisioner that died left half built or half removed. One made before
    /// leases existed (no <c>.use</c> file) is removed only when no runner at all is alive on this machine (no
    /// instance lock in <paramref name="runtimeDirectory"/> is held): such a runner may still use it without saying so.
    /// Never follows a link: only real folders and plain files with these names are considered. Call with the
    /// provisioning lock held. Returns the names removed.
    /// </summary>
    public static IReadOnlyList<string> RemoveUnused(string stateDirectory, string runtimeDirectory, IReadOnlyCollection<string> keep, ILogger logger)
    {
        var removed = new List<string>();
        bool? runnerAlive = null;
        foreach (var entry in Directory.EnumerateFileSystemEntries(stateDirectory).Order(StringComparer.Ordinal).ToList())
        {
            var name = Path.GetFileName(entry);
            var info = new FileInfo(entry);
            var isLink = info.LinkTarget is not null;
            var isFolder = !isLink && (info.Attributes & FileAttributes.Directory) != 0;
            var isFile = !isLink && (info.Attributes & FileAttributes.Directory) == 0;
            var candidate = (isFolder && RootName().IsMatch(name)) || (isFile && ProfileName().IsMatch(name));
            try
            {
                if (isFolder && Leftover().IsMatch(name))
                {
                    Directory.Delete(entry, recursive: true);
                    removed.Add(name);
                    continue;
                }

                if (!candidate || keep.Contains(entry))
                {
                    continue;
                }

                var use = entry + ".use";
                if (File.Exists(use))
                {
                    using var exclusive = LockFile.TryLockExclusive(use);
                    if (exclusive is null)
                    {
                        continue;
                    }

                    Remove(entry, isFolder);
                    File.Delete(use);
                }
                else
                {
                    runnerAlive ??= SlotPool.AnyRunnerAlive(runtimeDirectory);
                    if (runnerAlive.Value)
                    {
                        continue;
                    }

                    Remove(entry, isFolder);
                }

                removed.Add(name);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left for the next provisioning: nothing depends on its removal.
                logger.LogWarning("Could not remove unused {Name}: {Error}", name, e.Message);
            }
        }

        if (removed.Count > 0)
        {
            logger.LogInformation("Removed {Count} root file systems and profiles no runner uses: {Names}", removed.Count, string.Join(' ', removed));
        }

        return removed;
    }

    private static void Remove(string entry, bool isFolder)
    {
        if (!isFolder)
        {
            File.Delete(entry);
            return;
        }

        // Out of its name first: a root half removed must never be found under the name of a complete one.
        var trash = $"{entry}.{Environment.ProcessId}.old";
        Directory.Move(entry, trash);
        Directory.Delete(trash, recursive: true);
    }

    private sealed class Leases : List<SafeFileHandle>, IDisposable
    {
        public void Dispose()
        {
            foreach (var handle in this)
            {
                handle.Dispose();
            }

            Clear();
        }
    }
}
