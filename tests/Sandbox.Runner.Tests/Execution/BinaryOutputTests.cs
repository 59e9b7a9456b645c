using System.Collections.Concurrent;
using System.Text;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Tests.Judging;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Execution;

/// <summary>
/// Output and input that are not UTF-8 go through the real sandbox byte for byte: in the result's bytes, in the
/// streamed chunks' bytes, and into the program's stdin. Their text is the UTF-8 decoding, U+FFFD for invalid bytes.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class BinaryOutputTests(SandboxFixture sandbox)
{
    private static readonly byte[] EveryByte = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];

    [Fact]
    public async Task Run_ProgramWritingEveryByteValue_GetsThemBackExactlyInTheResultAndTheChunks()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var chunks = new ConcurrentQueue<OutputChunk>();
        // Stdout in three writes, the middle one splitting "é" (C3 A9) between two flushes; stderr every byte backwards.
        const string program = """
            import sys
            out = sys.stdout.buffer
            out.write(bytes(range(256))); out.flush()
            out.write(b'\xc3'); out.flush()
            out.write(b'\xa9 end\n'); out.flush()
            sys.stderr.buffer.write(bytes(reversed(range(256))))
            """;

        var result = await sandbox.Runner.RunAsync(new RunRequest("python", program), new SyncProgress<OutputChunk>(chunks.Enqueue), timeout.Token);

        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        byte[] stdout = [.. EveryByte, 0xC3, 0xA9, .. " end\n"u8];
        byte[] stderr = [.. EveryByte.Reverse()];
        Assert.Equal(stdout, result.StdoutBytes.ToArray());
        Assert.Equal(stderr, result.StderrBytes.ToArray());
        Assert.Equal(stdout, Concat(chunks, OutputStreamKind.Stdout));
        Assert.Equal(stderr, Concat(chunks, OutputStreamKind.Stderr));
        // The text is the bytes decoded (128 invalid bytes: 128 U+FFFD), in the result and in the chunks alike.
        Assert.Equal(Encoding.UTF8.GetString(stdout), result.Stdout);
        Assert.EndsWith("é end\n", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(128, result.Stdout.Count(c => c == '\uFFFD'));
        Assert.Equal(result.Stdout, string.Concat(chunks.Where(c => c.Stream == OutputStreamKind.Stdout).Select(c => c.Text)));
        Assert.Equal(result.Stderr, string.Concat(chunks.Where(c => c.Stream == OutputStreamKind.Stderr).Select(c => c.Text)));
    }

    [Fact]
    public async Task Run_NoCallerForChunks_StillKeepsTheBytes()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var result = await sandbox.Runner.RunAsync(new RunRequest("python", "import sys\nsys.stdout.buffer.write(bytes(range(256)))\n"), null, timeout.Token);

        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        Assert.Equal(EveryByte, result.StdoutBytes.ToArray());
        Assert.Equal(Encoding.UTF8.GetString(EveryByte), result.Stdout);
    }

    [Fact]
    public async Task Run_BinaryStdin_ReachesTheProgramAndComesBackByteForByte()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var input = new byte[200_000];
        new Random(256).NextBytes(input);
        EveryByte.CopyTo(input, 0);

        var result = await sandbox.Runner.RunAsync(
            new RunRequest("python", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n", StdinBytes: input),
            null,
            timeout.Token);

        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        Assert.Equal(input, result.StdoutBytes.ToArray());
    }

    [Fact]
    public async Task Run_OutputOverTheLimit_KeepsExactlyTheFirstBytesUpToIt()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var chunks = new ConcurrentQueue<OutputChunk>();

        var result = await sandbox.Runner.RunAsync(
            new RunRequest("python", "import sys\nwhile True:\n    sys.stdout.buffer.write(bytes(range(256)) * 64)\n", Limits: new LimitOverrides(OutputLimitKb: 64)),
            new SyncProgress<OutputChunk>(chunks.Enqueue),
            timeout.Token);

        Assert.Equal(RunVerdict.OutputLimit, result.Verdict);
        Assert.True(result.OutputTruncated);
        var expected = Enumerable.Repeat(EveryByte, 256).SelectMany(b => b).ToArray();
        Assert.Equal(expected, result.StdoutBytes.ToArray());
        Assert.Equal(expected, Concat(chunks, OutputStreamKind.Stdout));
    }

    private static byte[] Concat(IEnumerable<OutputChunk> chunks, OutputStreamKind stream) =>
        [.. chunks.Where(c => c.Stream == stream).SelectMany(c => c.Bytes.ToArray())];
}
