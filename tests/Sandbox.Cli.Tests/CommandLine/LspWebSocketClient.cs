using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// A minimal LSP client over a real <c>sandbox lsp --ws</c> server, as a web IDE speaks it: one JSON-RPC message per
/// WebSocket text message. Answers the server's requests and keeps its notifications.
/// </summary>
internal sealed class LspWebSocketClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly Channel<JsonElement> _received = Channel.CreateUnbounded<JsonElement>();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _readLoop;
    private int _nextId;

    private LspWebSocketClient(ClientWebSocket socket)
    {
        _socket = socket;
        _readLoop = Task.Run(ReadLoopAsync);
    }

    /// <summary>Notifications the server sent before the last response, in order.</summary>
    public List<JsonElement> Notifications { get; } = [];

    public static async Task<LspWebSocketClient> ConnectAsync(Uri address, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        try
        {
            await socket.ConnectAsync(address, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new LspWebSocketClient(socket);
    }

    /// <summary>Sends a request and waits for its response; notifications that arrive meanwhile go to <see cref="Notifications"/>.</summary>
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            if (_socket.State == WebSocketState.Open)
            {
                // The read loop sees the server's answering close frame and ends.
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }

            await _readLoop.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException)
        {
            // The server went first, or did not answer the close.
        }

        await _closing.CancelAsync();
        _socket.Dispose();
        _closing.Dispose();
        _sendLock.Dispose();
    }

    private async Task SendAsync(JsonObject message, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                using var message = new MemoryStream();
                ValueWebSocketReceiveResult received;
                do
                {
                    received = await _socket.ReceiveAsync(buffer.AsMemory(), _closing.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        return;
                    }

                    await message.WriteAsync(buffer.AsMemory(0, received.Count), _closing.Token);
                }
                while (!received.EndOfMessage);

                using var document = JsonDocument.Parse(message.ToArray());
                await _received.Writer.WriteAsync(document.RootElement.Clone());
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            // The connection ended, or the client is being disposed.
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }
}
