using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>
/// What the test LSP clients share whatever carries their messages (<see cref="LspStdioClient"/>: Content-Length frames
/// on a process's stdio; <see cref="LspWebSocketClient"/>: WebSocket text messages): requests matched to their
/// responses, the server's own requests answered, its notifications kept.
/// </summary>
internal abstract class LspTestClient
{
    private int _nextId;

    /// <summary>Messages from the server, in order, as the transport's read loop receives them.</summary>
    protected Channel<JsonElement> Received { get; } = Channel.CreateUnbounded<JsonElement>();

    /// <summary>Notifications the server sent, in order.</summary>
    public List<JsonElement> Notifications { get; } = [];

    /// <summary>Sends a request and waits for its response; answers the server's own requests and keeps its notifications meanwhile.</summary>
    public async Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken cancellationToken)
    {
        var id = Interlocked.Increment(ref _nextId);
        await SendAsync(new JsonObject { ["jsonrpc"] = "2.0", ["id"] = id, ["method"] = method, ["params"] = JsonSerializer.SerializeToNode(parameters) }, cancellationToken);
        while (true)
        {
            var message = await Received.Reader.ReadAsync(cancellationToken);
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

    /// <summary>Sends one message the way this transport frames it.</summary>
    protected abstract Task SendAsync(JsonObject message, CancellationToken cancellationToken);
}
