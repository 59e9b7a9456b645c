using System.Text;
using Sandbox.Runner.Files;

namespace Sandbox.Lsp.Features.Documents;

/// <summary>A file named by the client cannot be read: not a regular file, too large, or unreadable; the message says which.</summary>
internal sealed class ServerFileException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Reads files the client names (a <c>file:</c> URI, the <c>stdinFile</c> setting) without letting the name hang or
/// exhaust the server: only regular files, at most a given size, opened and read on the thread pool. The session's
/// handlers start one at a time on a non-concurrent synchronization context, so a FIFO opened there (open() waits for
/// a writer) froze the whole session, and <c>/dev/zero</c> was read until the process ran out of memory.
/// </summary>
internal static class ServerFiles
{
    /// <summary>Largest source file read from disk: the same 1 MB <c>sandbox run</c> allows for a source file.</summary>
    public const long MaxSourceBytes = 1024 * 1024;

    /// <summary>Largest stdin file: a runner host's default message limit (8 MiB) would refuse more anyway.</summary>
    public const long MaxStdinBytes = 8L * 1024 * 1024;

    /// <summary>Reads <paramref name="path"/> as text; throws <see cref="ServerFileException"/> when it is not a regular file of at most <paramref name="maxBytes"/>.</summary>
    /// <param name="path">The file (a symbolic link is followed; its target must be a regular file).</param>
    /// <param name="what">What the file is for, for messages ("the stdin file").</param>
    /// <param name="maxBytes">The size cap.</param>
    /// <param name="cancellationToken">Gives up waiting (the read itself may finish in the background).</param>
    public static Task<string> ReadTextAsync(string path, string what, long maxBytes, CancellationToken cancellationToken) =>
        // Off the session's context: even a file that turns into a FIFO between the check and the open holds one
        // pool thread, not the session, and WaitAsync lets the request be cancelled meanwhile.
        Task.Run(() => ReadText(path, what, maxBytes), cancellationToken).WaitAsync(cancellationToken);

    private static string ReadText(string path, string what, long maxBytes)
    {
        if (FileKinds.Of(path, followLinks: true) is var kind and not FileKind.Regular)
        {
            throw new ServerFileException($"{what} {path} is {Describe(kind)}, not a regular file; only regular files are read");
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 1);
            if (stream.Length > maxBytes)
            {
                throw TooLarge(path, what, maxBytes);
            }

            // The length can grow while reading: read at most one byte past the cap to tell.
            var buffer = new byte[Math.Min(stream.Length, maxBytes) + 1];
            var read = 0;
            int count;
            while (read < buffer.Length && (count = stream.Read(buffer, read, buffer.Length - read)) > 0)
            {
                read += count;
            }

            if (read > maxBytes)
            {
                throw TooLarge(path, what, maxBytes);
            }

            using var reader = new StreamReader(new MemoryStream(buffer, 0, read), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ServerFileException($"cannot read {what} {path}: {ex.Message}", ex);
        }
    }

    private static ServerFileException TooLarge(string path, string what, long maxBytes) =>
        new($"{what} {path} is larger than {maxBytes / 1024 / 1024} MB, the most read from disk");

    private static string Describe(FileKind kind) => kind switch
    {
        FileKind.Missing => "missing",
        FileKind.Directory => "a folder",
        _ => "a device, FIFO or socket",
    };
}
