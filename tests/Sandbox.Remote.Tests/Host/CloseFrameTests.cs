using System.Text;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>
/// A connection the host ends for breaking the protocol gets a close frame with the RFC 6455 status, read here with a
/// client built on a bare TCP socket so that a missing frame or a reset (what a WebSocket client reports as 1006) shows;
/// the host keeps serving, and runs on other connections go on.
/// </summary>
public sealed class CloseFrameTests : IDisposable
{
    private const int ProtocolError = 1002;
    private const int InvalidPayloadData = 1007;
    private const int MessageTooBig = 1009;

    private readonly CancellationTokenSource timeout = TestTimeouts.Create(TimeSpan.FromSeconds(60));

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task TextFrameThatIsNotUtf8_IsClosedWith1007_AndTheHostKeepsServing()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var socket = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout);

        // 0xC3 starts a two-byte sequence; 0x28 cannot continue it.
        await socket.SendFrameAsync(RawFrameSocket.Text, fin: true, Json(""""{"jsonrpc":"2.0","id":1,"method":"languages","params":{"x":"""", [0xC3, 0x28], "\"}}"), Timeout);
        var close = await socket.ReadCloseAsync(Timeout);

        // ManagedWebSocket queued this frame and then marked the socket aborted; the host reset the connection before it left.
        Assert.NotNull(close);
        Assert.Equal(InvalidPayloadData, close.Value.Status);
        await AssertHostServesAsync(host);
    }

    [Fact]
    public async Task TextFrameThatIsNotUtf8_GivesADotNetClient1007_Not1006()
    {
        // What the QA pass saw: ClientWebSocket sends the bytes as they are, and reported an abnormal closure.
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync(Json("\"", [0xED, 0xA0, 0x80], "\""), Timeout);
        var answer = await socket.ReceiveAsync(Timeout);

        Assert.Null(answer);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.InvalidPayloadData, socket.CloseStatus);
    }

    [Fact]
    public async Task InvalidUtf8InALaterFragment_IsClosedWith1007()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var socket = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout);

        await socket.SendFrameAsync(RawFrameSocket.Text, fin: false, Encoding.UTF8.GetBytes(""""{"jsonrpc":"2.0","id":1,"method":"languages","params":{"x":""""), Timeout);
        await socket.SendFrameAsync(RawFrameSocket.Continuation, fin: true, Json("", [0xFF], "\"}}"), Timeout);
        var close = await socket.ReadCloseAsync(Timeout);

        Assert.NotNull(close);
        Assert.Equal(InvalidPayloadData, close.Value.Status);
    }

    [Fact]
    public async Task FrameWithAnUnknownOpcode_IsClosedWith1002()
    {
        await using var host = await HostHarness.StartAsync(cancellationToken: Timeout);
        await using var socket = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout);

        // Opcodes 0x3 to 0x7 are reserved for data frames no extension here defines.
        await socket.SendFrameAsync(0x3, fin: true, "{}"u8.ToArray(), Timeout);
        var close = await socket.ReadCloseAsync(Timeout);

        Assert.NotNull(close);
        Assert.Equal(ProtocolError, close.Value.Status);
        await AssertHostServesAsync(host);
    }

    [Theory]
    [InlineData(64 * 1024, 1024)]
    [InlineData(8 * 1024 * 1024, 1024)]
    public async Task MessageOverTheLimitInSmallFragments_IsClosedWith1009_AndAFullClosingHandshake(long maxMessageBytes, int fragmentBytes)
    {
        await using var host = await HostHarness.StartAsync(configure: o => o.MaxMessageBytes = maxMessageBytes, cancellationToken: Timeout);
        await using var socket = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout);

        // A client that writes its whole message before it reads. More than the socket buffers and Kestrel's input pipe
        // hold between the two is still on its way when the host refuses the message.
        var fragment = new byte[fragmentBytes];
        Array.Fill(fragment, (byte)' ');
        var total = Math.Max(2 * maxMessageBytes, 16 * 1024 * 1024);
        for (long sent = 0; sent < total; sent += fragmentBytes)
        {
            var opcode = sent == 0 ? RawFrameSocket.Text : RawFrameSocket.Continuation;
            await socket.SendFrameAsync(opcode, fin: sent + fragmentBytes >= total, fragment, Timeout);
        }

        var close = await socket.ReadCloseAsync(Timeout);
        Assert.NotNull(close);
        Assert.Equal(MessageTooBig, close.Value.Status);
        Assert.Contains($"{maxMessageBytes} bytes", close.Value.Reason, StringComparison.Ordinal);

        // The host reads and drops the rest up to the client's close frame, then ends the TCP connection with a FIN. It
        // closed with those bytes unread, so the kernel answered them with a reset: the client's writes failed (broken
        // pipe) and a reset can destroy the close frame before a client reads it, leaving it 1006.
        await socket.SendCloseAsync(MessageTooBig, Timeout);
        Assert.Null(await socket.ReadFrameAsync(Timeout));
        await AssertHostServesAsync(host);
    }

    [Fact]
    public async Task ProtocolViolations_DoNotDisturbARunOnAnotherConnection()
    {
        await using var host = await HostHarness.StartAsync(configure: o => o.MaxMessageBytes = 64 * 1024, cancellationToken: Timeout);
        await using var running = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);
        await running.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"gate"}}""", Timeout);
        await host.Engine.Started.Reader.ReadAsync(Timeout);

        await using (var bad = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout))
        {
            await bad.SendFrameAsync(RawFrameSocket.Text, fin: true, Json("\"", [0xC0, 0xAF], "\""), Timeout);
            Assert.Equal(InvalidPayloadData, (await bad.ReadCloseAsync(Timeout))?.Status);
        }

        await using (var big = await RawFrameSocket.ConnectAsync(host.RpcUri, Timeout))
        {
            var fragment = new byte[1024];
            Array.Fill(fragment, (byte)' ');
            for (var i = 0; i <= 64; i++)
            {
                await big.SendFrameAsync(i == 0 ? RawFrameSocket.Text : RawFrameSocket.Continuation, fin: false, fragment, Timeout);
            }

            Assert.Equal(MessageTooBig, (await big.ReadCloseAsync(Timeout))?.Status);
        }

        host.Engine.ReleaseGate();
        var (response, _) = await running.ReceiveResponseAsync(1, Timeout);
        Assert.Equal("gate", response!.Value.GetProperty("result").GetProperty("stdout").GetString());
    }

    private static byte[] Json(string before, byte[] raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];

    private async Task AssertHostServesAsync(HostHarness host)
    {
        await using var client = host.CreateClient();
        var result = await client.RunAsync(new RunParams("python", "echo:still here"), null, Timeout).Within(Timeout);
        Assert.Equal("still here", result.Stdout);
    }
}
