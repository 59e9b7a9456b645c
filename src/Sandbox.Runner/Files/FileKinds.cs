using System.Runtime.InteropServices;

namespace Sandbox.Runner.Files;

/// <summary>What a path names on disk.</summary>
public enum FileKind
{
    /// <summary>Nothing (or nothing this process may look at).</summary>
    Missing,

    /// <summary>A regular file: the only kind read for a client or a problem.</summary>
    Regular,

    /// <summary>A folder.</summary>
    Directory,

    /// <summary>A symbolic link (only when links are not followed).</summary>
    Link,

    /// <summary>A FIFO, socket or device: opening one can wait forever, reading one can be endless.</summary>
    Other,
}

/// <summary>
/// Tells what kind of file a path names before anything opens it. .NET's <see cref="FileInfo"/> says only "not a folder":
/// a FIFO is a file to it, and opening one waits for a writer.
/// </summary>
public static partial class FileKinds
{
    /// <summary>The kind of <paramref name="path"/>; with <paramref name="followLinks"/> false a link is itself <see cref="FileKind.Link"/>.</summary>
    public static FileKind Of(string path, bool followLinks)
    {
        // statx, whose layout is the same on every architecture (stat's is not); stx_mode is the 16 bits at offset 28.
        Span<byte> buffer = stackalloc byte[256];
        if (statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            return FileKind.Missing;
        }

        return (BitConverter.ToUInt16(buffer[28..30]) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Link,
            _ => FileKind.Other,
        };
    }

    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, Span<byte> buffer);
}
