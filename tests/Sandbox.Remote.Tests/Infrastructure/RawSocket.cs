using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Sandbox.Remote.Tests.Infrastructure;

/// <summary>A bare WebSocket to the host, to send exactly the bytes a test wants and read what comes back.</summary>
internal sealed class RawSocket : IAsyncDisposable
{
    private readonly ClientWebSocket socket = new();

    public WebSocketState State => socket.State;

    public WebSocketCloseStatus? CloseStatus => socket.CloseStatus;

    public string? CloseStatusDescription => socket.CloseStatusDescription;

    public static async Task<RawSocket> ConnectAsync(Uri uri, string? token, CancellationToken cancellationToken)
    {
        var raw = new RawSocket();
        if (token is not null)
        {
            raw.socket.Options.SetRequestHeader("Authorization", $"Bearer {token}");
        }

        await raw.socket.ConnectAsync(uri, cancellationToken);
        return raw;
    }

    public Task SendTextAsync(string text, CancellationToken cancellationToken) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public Task SendTextAsync(byte[] bytes, CancellationToken cancellationToken) =>
        socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    public Task SendBinaryAsync(byte[] bytes, CancellationToken cancellationToken) =>
        socket.SendAsync(bytes, WebSocketMessageType.Binary, endOfMessage: true, cancellationToken);

    /// <summary>Sends one text message of <paramref name="bytes"/> bytes in 1 MiB frames; stops quietly when the host closes.</summary>
    public async Task SendHugeAsync(long bytes, CancellationToken cancellationToken)
    {
        var chunk = new byte[1024 * 1024];
        Array.Fill(chunk, (byte)' ');
        long sent = 0;
        try
        {
            while (sent < bytes)
            {
                var count = (int)Math.Min(chunk.Length, bytes - sent);
                sent += count;
                await socket.SendAsync(chunk.AsMemory(0, count), WebSocketMessageType.Text, sent >= bytes, cancellationToken);
            }
        }
        catch (WebSocketException)
        {
            // The host closed the connection part-way, which is what the test expects.
        }
    }

    /// <summary>The next message as JSON, or null when the host closed the connection.</summary>
    public async Task<JsonElement?> ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, cancellationToken);
            }
            catch (WebSocketException)
            {
                return null;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            await message.WriteAsync(buffer.AsMemory(0, result.Count), cancellationToken);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            }
        }
    }

    /// <summary>Reads until the response with <paramref name="id"/> arrives, collecting the notifications before it.</summary>
    public async Task<(JsonElement? Response, List<JsonElement> Notifications)> ReceiveResponseAsync(int id, CancellationToken cancellationToken)
    {
        var notifications = new List<JsonElement>();
        while (await ReceiveAsync(cancellationToken) is { } message)
        {
            if (message.TryGetProperty("id", out var got) && got.ValueKind == JsonValueKind.Number && got.GetInt32() == id)
            {
                return (message, notifications);
            }

            notifications.Add(message);
        }

        return (null, notifications);
    }

    public void Abort() => socket.Abort();

    public ValueTask DisposeAsync()
    {
        socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
