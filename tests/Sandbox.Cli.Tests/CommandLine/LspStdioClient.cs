using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// A minimal LSP client over a real <c>sandbox lsp --stdio</c> process: Content-Length framing written by hand, so the
/// test holds the server to the wire format and not to a library's leniency. Every byte on the server's stdout must
/// be part of a frame; anything else fails the read loop (and the test).
/// </summary>
internal sealed class LspStdioClient : LspTestClient, IAsyncDisposable
{
    private readonly Process _process;
    private readonly Stream _sendingStream;
    private readonly Task _readLoop;
    private readonly Task<string> _stderr;
    private readonly SemaphoreSlim _sendLock = new(1, 1);

    private LspStdioClient(Process process)
    {
        _process = process;
        _sendingStream = process.StandardInput.BaseStream;
        _stderr = process.StandardError.ReadToEndAsync();
        _readLoop = Task.Run(() => ReadLoopAsync(process.StandardOutput.BaseStream));
    }

    /// <summary>The server's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>What the server wrote on stderr, once it has exited.</summary>
    public Task<string> Stderr => _stderr;

    /// <summary>Fails if stdout carried anything but frames; completes when stdout closes.</summary>
    public Task StdoutClosed => _readLoop;

    public static LspStdioClient Start(params string[] args) => new(Process.Start(Cli.StartInfo(["lsp", "--stdio", .. args])) ?? throw new InvalidOperationException("could not start sandbox lsp"));

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

    protected override async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
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
                await Received.Writer.WriteAsync(document.RootElement.Clone());
            }
        }
        finally
        {
            Received.Writer.TryComplete();
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
