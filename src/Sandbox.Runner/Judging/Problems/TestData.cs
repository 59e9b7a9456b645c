namespace Sandbox.Runner.Judging.Problems;

/// <summary>
/// The bytes of a test's input or answer, read only when a test runs (a library listing never reads them).
/// The size is known up front so that an oversized file is refused before a byte of it is read.
/// </summary>
internal abstract class TestData
{
    /// <summary>Path of the file within its problem (for messages; never its content).</summary>
    public abstract string Location { get; }

    /// <summary>Size in bytes as declared by the file system or the zip directory.</summary>
    public abstract long Length { get; }

    /// <summary>Reads the whole content, refusing more than <paramref name="maxBytes"/> even when the declared size lied.</summary>
    public abstract Task<byte[]> ReadAsync(long maxBytes, CancellationToken cancellationToken);

    /// <summary>Reads the whole content synchronously (small files: metadata, samples), with the same bound.</summary>
    public abstract byte[] Read(long maxBytes);

    /// <summary>Wraps bytes already in memory (single-file YAML problems, ad-hoc checks).</summary>
    public static TestData FromBytes(string location, byte[] content) => new InMemoryTestData(location, content);

    /// <summary>Reads a stream to its end, failing with <see cref="ProblemFormatException"/> past <paramref name="maxBytes"/>.</summary>
    protected static async Task<byte[]> ReadBoundedAsync(Stream stream, string location, long maxBytes, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            int read = await stream.ReadAsync(chunk, cancellationToken);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(location, maxBytes);
            }

            await buffer.WriteAsync(chunk.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>Synchronous twin of <see cref="ReadBoundedAsync"/>.</summary>
    protected static byte[] ReadBounded(Stream stream, string location, long maxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            int read = stream.Read(chunk, 0, chunk.Length);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > maxBytes)
            {
                throw TooLarge(location, maxBytes);
            }

            buffer.Write(chunk, 0, read);
        }
    }

    /// <summary>The fault for a file over the size cap.</summary>
    protected static ProblemFormatException TooLarge(string location, long maxBytes) =>
        new(location, $"larger than the {FormatSize(maxBytes)} limit for problem files");

    private static string FormatSize(long bytes) =>
        bytes >= 1024 * 1024 ? $"{bytes / 1024 / 1024} MB" : $"{bytes} bytes";

    private sealed class InMemoryTestData(string location, byte[] content) : TestData
    {
        public override string Location => location;

        public override long Length => content.Length;

        public override Task<byte[]> ReadAsync(long maxBytes, CancellationToken cancellationToken) =>
            content.Length > maxBytes
                ? throw TooLarge(location, maxBytes)
                : Task.FromResult(content);

        public override byte[] Read(long maxBytes) => content.Length > maxBytes ? throw TooLarge(location, maxBytes) : content;
    }
}
