using System.Net.WebSockets;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>Garbage on one connection gets an error or a closed socket, and the host keeps serving everyone else.</summary>
public sealed class MalformedInputTests : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create(TimeSpan.FromSeconds(60));
    private HostHarness host = null!;

    private CancellationToken Timeout => timeout.Token;

    public async Task InitializeAsync() => host = await HostHarness.StartAsync(cancellationToken: Timeout);

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        timeout.Dispose();
    }

    [Fact]
    public async Task BadJson_GetsAParseError_AndTheSameConnectionKeepsServing()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("{this is not json", Timeout);
        var answer = await socket.ReceiveAsync(Timeout);

        Assert.NotNull(answer);
        Assert.Equal(-32700, answer.Value.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, answer.Value.GetProperty("id").ValueKind);
        await AssertConnectionServesAsync(socket, 2);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":5,"method":"languages","params":"x"}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":5,"method":"run","params":5}""", -32602)]
    [InlineData("""{"jsonrpc":"2.0","id":5,"method":5}""", -32600)]
    [InlineData("""{"jsonrpc":"2.0","id":5}""", -32600)]
    public async Task MalformedRequest_GetsAnErrorForItsId_AndTheConnectionStays(string message, int code)
    {
        // StreamJsonRpc could not dispatch these and ended the whole connection (and every run on it) with "bye".
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync(message, Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(5, Timeout);

        Assert.NotNull(response);
        Assert.Equal(code, response.Value.GetProperty("error").GetProperty("code").GetInt32());
        await AssertConnectionServesAsync(socket, 6);
    }

    [Theory]
    [InlineData("""{"jsonrpc":"2.0","id":424242,"result":1}""")]
    [InlineData("""{"jsonrpc":"2.0","id":424242,"error":5}""")]
    [InlineData("""{"jsonrpc":"2.0","method":5}""")]
    [InlineData("""{"jsonrpc":"2.0","method":"output","params":"x"}""")]
    public async Task StrayResponseOrMalformedNotification_IsDroppedSilently(string message)
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync(message, Timeout);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":6,"method":"languages"}""", Timeout);
        var (response, before) = await socket.ReceiveResponseAsync(6, Timeout);

        Assert.True(response!.Value.TryGetProperty("result", out _), "the connection still works");
        Assert.Empty(before);
    }

    [Fact]
    public async Task BadMessage_DoesNotLoseARunInFlightOnTheSameConnection()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"gate"}}""", Timeout);
        await host.Engine.Started.Reader.ReadAsync(Timeout);

        await socket.SendTextAsync("[1, 2, 3]", Timeout);
        var error = await socket.ReceiveAsync(Timeout);
        Assert.Equal(-32700, error!.Value.GetProperty("error").GetProperty("code").GetInt32());
        host.Engine.ReleaseGate();
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);

        Assert.Equal("gate", response!.Value.GetProperty("result").GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task WrongParamTypes_GetInvalidParams()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":5,"source":["x"]}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);

        Assert.Equal(-32602, response!.Value.GetProperty("error").GetProperty("code").GetInt32());
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":2,"method":"languages"}""", Timeout);
        Assert.True((await socket.ReceiveResponseAsync(2, Timeout)).Response!.Value.TryGetProperty("result", out _), "the same connection still works");
    }

    [Fact]
    public async Task MissingFields_GetInvalidRequest()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);

        var code = response!.Value.GetProperty("error").GetProperty("code").GetInt32();
        Assert.True(code is (int)SandboxErrorCode.InvalidRequest or -32602, $"code {code}");
    }

    [Fact]
    public async Task UnknownMethod_GetsMethodNotFound()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"dispose","params":{}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);

        Assert.Equal(-32601, response!.Value.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task ClrMethodName_IsNotCallable()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"RunAsync","params":{"language":"python","source":"echo:x"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(1, Timeout);

        Assert.Equal(-32601, response!.Value.GetProperty("error").GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task FiftyMegabyteMessage_ClosesThatConnection_AndTheHostKeepsServing()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendHugeAsync(50L * 1024 * 1024, Timeout);
        var answer = await socket.ReceiveAsync(Timeout);

        Assert.Null(answer);
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, socket.CloseStatus);
        await AssertHostServesAsync();
    }

    [Fact]
    public async Task BinaryFrame_ClosesThatConnection_AndTheHostKeepsServing()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendBinaryAsync("""{"jsonrpc":"2.0","id":1,"method":"languages"}"""u8.ToArray(), Timeout);
        var answer = await socket.ReceiveAsync(Timeout);

        Assert.Null(answer);
        Assert.Equal(WebSocketCloseStatus.InvalidMessageType, socket.CloseStatus);
        await AssertHostServesAsync();
    }

    [Fact]
    public async Task PlainHttpToRpc_GetsBadRequest()
    {
        using var http = new HttpClient { BaseAddress = host.HttpBase };

        using var response = await http.GetAsync(new Uri("/rpc", UriKind.Relative), Timeout);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task AssertConnectionServesAsync(RawSocket socket, int id)
    {
        await socket.SendTextAsync($$"""{"jsonrpc":"2.0","id":{{id}},"method":"languages"}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(id, Timeout);
        Assert.True(response!.Value.TryGetProperty("result", out _), "the same connection still works");
    }

    private async Task AssertHostServesAsync()
    {
        await using var client = host.CreateClient();
        var result = await client.RunAsync(new RunParams("python", "echo:still here"), null, Timeout).Within(Timeout);
        Assert.Equal("still here", result.Stdout);
    }
}
