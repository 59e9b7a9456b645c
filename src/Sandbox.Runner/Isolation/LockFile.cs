using Microsoft.Win32.SafeHandles;

namespace Sandbox.Runner.Isolation;

/// <summary>
/// Probes of the `flock` locks runners hold for as long as they live (instance locks, leases on what they use): a
/// lock is released by the kernel when its holder dies, so a free lock means a runner that is gone.
/// </summary>
internal static class LockFile
{
    /// <summary>The file locked exclusively, or null when someone holds a lock on it. Throws when it does not exist.</summary>
    public static SafeFileHandle? TryLockExclusive(string path)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException)
        {
            // .NET itself takes a shared lock when opening for reading, and fails so when someone holds it exclusively.
            return null;
        }

        if (Native.flock(handle, Native.LOCK_EX | Native.LOCK_NB) == 0)
        {
            return handle;
        }

        handle.Dispose();
        return null;
    }

    /// <summary>Whether someone holds a lock on <paramref name="path"/> (false when there is no such file).</summary>
    public static bool IsHeld(string path)
    {
        try
        {
            using var probe = TryLockExclusive(path);
            return probe is null;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }
}
