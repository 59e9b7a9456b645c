using Microsoft.Extensions.DependencyInjection;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>A client that stops reading while its runs write cannot make the host hold their output without bound.</summary>
public sealed class SlowClientTests : IDisposable
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();

    private CancellationToken Timeout => timeout.Token;

    public void Dispose() => timeout.Dispose();

    [Fact]
    public async Task ClientThatDoesNotRead_IsDroppedOnceItsBacklogPassesTheLimit()
    {
        // The stall timeout is out of the way: only the backlog can end this connection.
        await using var host = await HostHarness.StartAsync(configure: o => { o.MaxUnsentBytes = 256 * 1024; o.SendStallTimeout = TimeSpan.FromMinutes(10); }, cancellationToken: Timeout);
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        // 300,000 lines of output, about 20 MB as notifications: more than the socket buffers between the two hold.
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"chunks:300000"}}""", Timeout);

        await WaitForNoConnectionAsync(host);
        var (response, notifications) = await socket.ReceiveResponseAsync(1, Timeout);
        Assert.Null(response);
        Assert.InRange(notifications.Count, 0, 299_999);
    }

    [Fact]
    public async Task ClientThatDoesNotRead_IsDroppedWhenASendStallsPastTheTimeout()
    {
        await using var host = await HostHarness.StartAsync(configure: o => o.SendStallTimeout = TimeSpan.FromSeconds(1), cancellationToken: Timeout);
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"chunks:300000"}}""", Timeout);

        await WaitForNoConnectionAsync(host);
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);
        Assert.Null(response);
    }

    [Fact]
    public async Task ClientThatReads_GetsAllOfALargeOutput()
    {
        await using var host = await HostHarness.StartAsync(configure: o => { o.MaxUnsentBytes = 256 * 1024; o.SendStallTimeout = TimeSpan.FromSeconds(5); }, cancellationToken: Timeout);
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"chunks:10000"}}""", Timeout);
        var (response, notifications) = await socket.ReceiveResponseAsync(1, Timeout);

        // Read as fast as it comes, the backlog stays small whatever the total: nothing is dropped.
        Assert.NotNull(response);
        Assert.Equal(10_000, notifications.Count);
    }

    private async Task WaitForNoConnectionAsync(HostHarness host)
    {
        var metrics = host.App.Services.GetRequiredService<SandboxMetrics>();
        while (metrics.Connections != 0)
        {
            await Task.Delay(20, Timeout);
        }
    }
}
