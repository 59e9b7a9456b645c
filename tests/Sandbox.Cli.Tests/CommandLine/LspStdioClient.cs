using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// A minimal LSP client over a real <c>sandbox lsp --stdio</c> process: Content-Length framing written by hand, so the
/// test holds the server to the wire format and not to a library's leniency. Every byte on the server's stdout must
/// be part of a frame; anything else fails the read loop (and the test).
/// </summary>
internal sealed class LspStdioClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _sendingStream;
    private readonly Channel<JsonElement> _received = Channel.CreateUnbounded<JsonElement>();
    private readonly Task _readLoop;
    private readonly Task<string> _stderr;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private int _nextId;

    private LspStdioClient(Process process)
    {
        _process = process;
        _sendingStream = process.StandardInput.BaseStream;
        _stderr = process.StandardError.ReadToEndAsync();
        _readLoop = Task.Run(() => ReadLoopAsync(process.StandardOutput.BaseStream));
    }

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Notifications the server sent, in order.</summary>
    public List<JsonElement> Notifications { get; } = [];

    /// <summary>What the server wrote on stderr, once it has exited.</summary>
    public Task<string> Stderr => _stderr;

    /// <summary>Fails if stdout carried anything but frames; completes when stdout closes.</summary>
    public Task StdoutClosed => _readLoop;

    public static LspStdioClient Start(params string[] args) => new(Process.Start(Cli.StartInfo(["lsp", "--stdio", .. args])) ?? throw new InvalidOperationException("could not start sandbox lsp"));

    /// <summary>Sends a request and waits for its response; answers the server's own requests and keeps its notifications meanwhile.</summary>
    public async Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters) }, cancellationToken);
        while (true)
        {
            var message = await _received.Reader.ReadAsync(cancellationToken);
            if (message.TryGetProperty("method", out _))
            {
                if (message.TryGetProperty("id", out var serverId))
                {
                    // A request from the server (window/workDoneProgress/create, ...): accept it.
                    await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = JsonNode.Parse(serverId.GetRawText()), ["result"] = null }, cancellationToken);
                }
                else
                {
                    Notifications.Add(message);
                }

                continue;
            }

            if (message.TryGetProperty("id", out var responseId) && responseId.ValueKind == JsonValueKind.Number && responseId.GetInt32() == id)
            {
                return message.TryGetProperty("error", out var error)
                    ? throw new InvalidOperationException($"{method} failed: {error.GetRawText()}")
                    : message.GetProperty("result");
            }
        }
    }

    public Task NotifyAsync(string method, object? parameters, CancellationToken cancellationToken) =>
        SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters) }, cancellationToken);

    /// <summary>Sends a signal to the server process.</summary>
    public Task SignalAsync(string signal) => Cli.SignalAsync(_process, signal);

    /// <summary>Closes the server's stdin, as a client that goes away does.</summary>
    public void CloseStdin() => _process.StandardInput.Close();

    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await _process.WaitForExitAsync(cancellationToken);
        await _readLoop.WaitAsync(cancellationToken);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        await Cli.KillAsync(_process);

        _process.Dispose();
        _sendLock.Dispose();
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
    {
        var body = Encoding.UTF8.GetBytes(message.ToJsonString());
        var header = Encoding.ASCII.GetBytes($"Content-Length: {body.Length}\r\n\r\n");
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _sendingStream.WriteAsync(header, cancellationToken);
            await _sendingStream.WriteAsync(body, cancellationToken);
            await _sendingStream.FlushAsync(cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync(Stream receivingStream)
    {
        try
        {
            while (await ReadFrameAsync(receivingStream) is { } frame)
            {
                using var document = JsonDocument.Parse(frame);
                await _received.Writer.WriteAsync(document.RootElement.Clone());
            }
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }

    /// <summary>One frame's body, or null at a clean end of stream (between frames).</summary>
    private static async Task<byte[]?> ReadFrameAsync(Stream stream)
    {
        int? length = null;
        while (true)
        {
            var line = await ReadHeaderLineAsync(stream);
            if (line is null)
            {
                return length is null ? null : throw new InvalidDataException("stdout ended inside a frame header");
            }

            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var name = colon < 0 ? line : line[..colon];
            if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                length = int.Parse(line[(colon + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
            else if (!name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidDataException($"stdout carried something that is not an LSP frame header: '{line}'");
            }
        }

        var body = new byte[length ?? throw new InvalidDataException("frame without Content-Length")];
        await stream.ReadExactlyAsync(body);
        return body;
    }

    private static async Task<string?> ReadHeaderLineAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (true)
        {
            if (await stream.ReadAsync(one) == 0)
            {
                return bytes.Count == 0 ? null : throw new InvalidDataException($"stdout ended inside a header: '{Encoding.ASCII.GetString([.. bytes])}'");
            }

            if (one[0] == '\n')
            {
                return bytes.Count > 0 && bytes[^1] == '\r'
                    ? Encoding.ASCII.GetString([.. bytes], 0, bytes.Count - 1)
                    : throw new InvalidDataException($"header line not ended by CRLF: '{Encoding.ASCII.GetString([.. bytes])}'");
            }

            bytes.Add(one[0]);
            if (bytes.Count > 1024)
            {
                throw new InvalidDataException($"stdout carried something that is not an LSP frame: '{Encoding.ASCII.GetString([.. bytes])}'");
            }
        }
    }
}
