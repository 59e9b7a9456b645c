using System.Text;
using System.Text.Json;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Tests.Infrastructure;
using Sandbox.Remote.Contract;

namespace Sandbox.Lsp.Tests.Behaviour;

/// <summary>The behaviour suite over the LSP base protocol (Content-Length framing), as stdio carries it.</summary>
public sealed class StdioLanguageServerTests : LanguageServerBehaviourTests
{
    private readonly MemoryStream sent = new();

    internal override Task<ServerConnection> StartServerAsync(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout)
        => Task.FromResult(StdioServer.Start(factory, configure, timeout, sent));

    [Fact]
    public async Task DidChangeConfiguration_NewRunnerUrl_ReconnectsThroughTheFactory()
    {
        await StartInitializedAsync();
        await Client.ExecuteAsync(SandboxCommands.ListLanguages);

        await Client.NotifyAsync(LspMethods.DidChangeConfiguration, new { settings = new { sandbox = new { runnerUrl = "ws://runner.example:5000/rpc", tokenFile = "/etc/sandbox/token" } } });
        await Client.ExecuteAsync(SandboxCommands.ListLanguages);

        lock (Endpoints)
        {
            Assert.Equal(new RunnerEndpoint(null, null), Endpoints[0]);
            Assert.Equal(new RunnerEndpoint("ws://runner.example:5000/rpc", "/etc/sandbox/token"), Endpoints[^1]);
        }
    }

    [Fact]
    public async Task RunnerUrlSetting_IsHonoured_TheServerConnectsWhereTheClientSays()
    {
        // Over stdio the client is the user who started the server: choosing the runner is a feature (unlike WebSocket).
        using var trap = new ConnectionTrap();
        FactoryBehaviour = endpoint => endpoint.Url is null ? Task.FromResult<ISandboxRpc>(Fake) : ConnectForRealAsync(endpoint);
        await StartAsync();

        await Client.InitializeAsync(new { sandbox = new { runnerUrl = trap.Url, token = "the user's token" } });
        await trap.FirstConnection.WaitAsync(Timeout);

        lock (Endpoints)
        {
            var endpoint = Assert.Single(Endpoints);
            Assert.Equal(trap.Url, endpoint.Url);
            Assert.NotNull(endpoint.TokenFile);
        }

        Assert.DoesNotContain(Client.Notifications(LspMethods.ShowMessage), m => m.GetProperty("message").GetString()!.Contains("ignoring", StringComparison.Ordinal));
        Assert.Empty(Fake.Runs);
    }

    [Fact]
    public async Task FileUriNotOpen_IsReadFromDisk()
    {
        var file = Path.Combine(Path.GetTempPath(), $"sandbox-lsp-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(file, "print('from disk')\n", Timeout);
        try
        {
            await StartInitializedAsync();

            await Client.ExecuteAsync(SandboxCommands.Run, new { uri = new Uri(file).AbsoluteUri });

            Assert.Equal("print('from disk')\n", Assert.Single(Fake.Runs).Source);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("fifo")]
    [InlineData("/dev/null")]
    [InlineData("folder")]
    public async Task FileUri_NotARegularFile_IsRefusedAndTheSessionKeepsServing(string kind)
    {
        // A FIFO's open() waits for a writer: read on the session's context it froze the session for good.
        using var scratch = new ScratchFolder();
        var path = kind switch
        {
            "fifo" => scratch.MakeFifo("prog.py"),
            "folder" => Directory.CreateDirectory(Path.Combine(scratch.Path, "prog.py")).FullName,
            _ => kind,
        };
        await StartInitializedAsync();

        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = new Uri(path).AbsoluteUri, language = "python" }));
        var languages = await Client.ExecuteAsync(SandboxCommands.ListLanguages);

        if (kind == "folder")
        {
            // File.Exists is false for a folder: it is simply not a document.
            Assert.Equal((int)LspErrorCode.UnknownDocument, error.Code);
        }
        else
        {
            Assert.Equal((int)LspErrorCode.InvalidParams, error.Code);
            Assert.Contains("not a regular file", error.Message, StringComparison.Ordinal);
        }

        Assert.Empty(Fake.Runs);
        Assert.True(languages.GetProperty("languages").GetArrayLength() > 0);
    }

    [Fact]
    public async Task FileUri_LargerThanTheSourceCap_IsRefused()
    {
        using var scratch = new ScratchFolder();
        var path = Path.Combine(scratch.Path, "big.py");
        await using (var file = File.Create(path))
        {
            // Sparse: 2 MiB without writing them; /dev/zero (endless) was read until the server ran out of memory.
            file.SetLength(2 * 1024 * 1024);
        }

        await StartInitializedAsync();

        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = new Uri(path).AbsoluteUri }));

        Assert.Equal((int)LspErrorCode.InvalidParams, error.Code);
        Assert.Contains("larger than 1 MB", error.Message, StringComparison.Ordinal);
        Assert.Empty(Fake.Runs);
    }

    [Fact]
    public async Task StdinFile_IsReadOverStdio_ButAFifoIsRefused()
    {
        using var scratch = new ScratchFolder();
        var input = Path.Combine(scratch.Path, "in.txt");
        await File.WriteAllTextAsync(input, "42\n", Timeout);
        var fifo = scratch.MakeFifo("in.fifo");
        await StartInitializedAsync(new { sandbox = new { stdinFile = input } });
        await Client.OpenAsync(PyUri, "python", "print(input())\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await Client.NotifyAsync(LspMethods.DidChangeConfiguration, new { settings = new { sandbox = new { stdinFile = fifo } } });
        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));

        Assert.Equal("42\n", Assert.Single(Fake.Runs).Stdin);
        Assert.Equal((int)LspErrorCode.InvalidParams, error.Code);
        Assert.Contains("not a regular file", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A temporary folder, deleted with its content.</summary>
    private sealed class ScratchFolder : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sandbox-lsp-files-").FullName;

        public string MakeFifo(string name)
        {
            var fifo = System.IO.Path.Combine(Path, name);
            using var mkfifo = System.Diagnostics.Process.Start("mkfifo", [fifo]);
            mkfifo.WaitForExit();
            Assert.Equal(0, mkfifo.ExitCode);
            return fifo;
        }

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    [Fact]
    public async Task Exit_AfterShutdown_EndsWithCodeZero()
    {
        await StartInitializedAsync();

        await Client.RequestAsync(LspMethods.Shutdown, null);
        await Client.NotifyAsync(LspMethods.Exit, null);

        Assert.Equal(0, await ExitCode!.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Exit_WithNullParamsArray_IsStillExit()
    {
        await StartInitializedAsync();

        await Client.RequestAsync(LspMethods.Shutdown, null);
        await Client.Rpc.NotifyAsync(LspMethods.Exit, [null]).WaitAsync(Timeout);

        Assert.Equal(0, await ExitCode!.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Exit_WithoutShutdown_EndsWithCodeOne()
    {
        await StartInitializedAsync();

        await Client.NotifyAsync(LspMethods.Exit, null);

        Assert.Equal(1, await ExitCode!.WaitAsync(Timeout));
    }

    [Fact]
    public async Task SendingStream_CarriesOnlyContentLengthFrames_EvenWithVerboseLogging()
    {
        await StartInitializedAsync(new { trace = "trace" });
        await Client.OpenAsync(PyUri, "python", PyWithError);
        Fake.OnRun = (_, output, _) =>
        {
            output!.Report(new(Runner.Execution.OutputStreamKind.Stdout, "héllo\r\n"));
            return Task.FromResult(new Runner.Execution.RunResult { Verdict = Runner.Execution.RunVerdict.RuntimeError, Stderr = PyTraceback });
        };
        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await Client.RequestAsync(LspMethods.Shutdown, null);
        await Client.NotifyAsync(LspMethods.Exit, null);
        Assert.Equal(0, await ExitCode!.WaitAsync(Timeout));

        byte[] bytes;
        lock (sent)
        {
            bytes = sent.ToArray();
        }

        var frames = FrameReader.ReadAll(bytes);
        Assert.True(frames.Count >= 5, $"expected several frames, got {frames.Count}");
        Assert.All(frames, f => Assert.Equal("2.0", f.GetProperty("jsonrpc").GetString()));
    }

    [Fact]
    public async Task MalformedFrame_IsAnsweredWithAnError_AndTheServerKeepsServing()
    {
        var (stream, exitCode) = StdioServer.StartRaw((_, _) => Task.FromResult<ISandboxRpc>(new FakeSandboxRpc()), Timeout);
        await using var clientSide = stream;

        await FrameReader.WriteAsync(stream, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}""", Timeout);
        var initialized = await FrameReader.ReadResponseAsync(stream, Timeout);
        await FrameReader.WriteAsync(stream, """{"jsonrpc":"2.0","id":2,"method":"workspace/executeCommand","params":{"command":""", Timeout);
        var parseError = await FrameReader.ReadResponseAsync(stream, Timeout);
        await FrameReader.WriteAsync(stream, "[1, 2]", Timeout);
        var notJsonRpc = await FrameReader.ReadResponseAsync(stream, Timeout);
        await FrameReader.WriteAsync(stream, """{"jsonrpc":"2.0","id":3,"method":"workspace/executeCommand","params":{"command":"sandbox.listLanguages"}}""", Timeout);
        var listed = await FrameReader.ReadResponseAsync(stream, Timeout);

        Assert.True(initialized.TryGetProperty("result", out _), initialized.ToString());
        Assert.True(parseError.TryGetProperty("error", out _), parseError.ToString());
        Assert.True(notJsonRpc.TryGetProperty("error", out _), notJsonRpc.ToString());
        Assert.Equal(-32700, parseError.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(JsonValueKind.Null, parseError.GetProperty("id").ValueKind);
        Assert.Equal(-32700, notJsonRpc.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(3, listed.GetProperty("id").GetInt32());
        Assert.Equal(2, listed.GetProperty("result").GetProperty("languages").GetArrayLength());
        Assert.False(exitCode.IsCompleted);
    }
}

/// <summary>Reads and writes LSP base-protocol frames strictly (no tolerance for stray bytes).</summary>
internal static class FrameReader
{
    public static List<JsonElement> ReadAll(byte[] bytes)
    {
        var frames = new List<JsonElement>();
        var position = 0;
        while (position < bytes.Length)
        {
            var headerEnd = IndexOf(bytes, "\r\n\r\n"u8.ToArray(), position);
            Assert.True(headerEnd > position, $"bytes at {position} are not a frame header: {Encoding.UTF8.GetString(bytes, position, Math.Min(80, bytes.Length - position))}");
            var header = Encoding.ASCII.GetString(bytes, position, headerEnd - position);
            var length = ParseLength(header);
            var body = headerEnd + 4;
            Assert.True(body + length <= bytes.Length, "truncated frame");
            frames.Add(JsonDocument.Parse(bytes.AsMemory(body, length)).RootElement.Clone());
            position = body + length;
        }

        return frames;
    }

    public static async Task WriteAsync(Stream stream, string json, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(json);
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n"), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);
        await stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads frames until a response (skipping the server's notifications and requests).</summary>
    public static async Task<JsonElement> ReadResponseAsync(Stream stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await ReadAsync(stream, cancellationToken);
            if (!frame.TryGetProperty("method", out _))
            {
                return frame;
            }
        }
    }

    public static async Task<JsonElement> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new List<byte>();
        var one = new byte[1];
        while (header.Count < 4 || !header.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new EndOfStreamException();
            }

            header.Add(one[0]);
        }

        var length = ParseLength(Encoding.ASCII.GetString([.. header]));
        var body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken);
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static int ParseLength(string header)
    {
        var lines = header.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(lines, l => Assert.Matches("^(Content-Length|Content-Type): ", l));
        return int.Parse(lines.Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int start)
    {
        for (var i = start; i <= haystack.Length - needle.Length; i++)
        {
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
