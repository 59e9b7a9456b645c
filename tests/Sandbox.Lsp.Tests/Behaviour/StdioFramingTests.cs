using System.Text;
using System.Text.Json;
using Sandbox.Lsp.Tests.Infrastructure;
using Sandbox.Remote.Contract;

namespace Sandbox.Lsp.Tests.Behaviour;

/// <summary>
/// Bad bytes on the LSP base protocol: each is answered at most once, the server skips to the next frame and keeps
/// serving (no flood of errors, no exit).
/// </summary>
public sealed class StdioFramingTests : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = new(TimeSpan.FromSeconds(30));
    private Stream stream = Stream.Null;
    private Task<int> exitCode = Task.FromResult(0);

    private CancellationToken Timeout => timeout.Token;

    public Task InitializeAsync()
    {
        (stream, exitCode) = StdioServer.StartRaw((_, _) => Task.FromResult<ISandboxRpc>(new FakeSandboxRpc()), Timeout);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await stream.DisposeAsync();
        timeout.Dispose();
    }

    public static TheoryData<string, string> BadFrames => new()
    {
        { "garbage line", "hello world\r\n\r\n" },
        { "misspelt header", "Content-Lenght: 2\r\n\r\n{}" },
        { "only Content-Type", "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}" },
        { "no colon", "Content-Length 2\r\n\r\n{}" },
        { "length not a number", "Content-Length: abc\r\n\r\n" },
        { "length negative", "Content-Length: -5\r\n\r\n" },
        { "length zero", "Content-Length: 0\r\n\r\n" },
        { "length beyond int", "Content-Length: 99999999999999\r\n\r\n{}" },
        { "unknown charset", "Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin-99\r\n\r\n{}" },
        { "length shorter than body", "Content-Length: 10\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":79,\"method\":\"test/x\"}" },
        // Eats the start of the first ping's header: the second ping must still be answered.
        { "length longer than body", "Content-Length: 60\r\n\r\n{\"jsonrpc\":\"2.0\",\"id\":80,\"method\":\"test/x\"}" },
        { "JSON number", Frame("5") },
        { "not JSON", Frame("{not json") },
        { "two JSON values", Frame("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"test/x\"}{\"a\":1}") },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task BadFrame_GetsOneParseError_AndTheNextFrameIsServed(string label, string bytes)
    {
        await SendAsync(bytes);
        await SendAsync(Frame(Ping(1001)) + Frame(Ping(1002)));

        var replies = await ReadUntilPingAsync();

        var parseErrors = replies.Where(r => ErrorCode(r) == -32700).ToList();
        var parseError = Assert.Single(parseErrors);
        Assert.Equal(JsonValueKind.Null, parseError.GetProperty("id").ValueKind);
        Assert.DoesNotContain(replies, r => ErrorCode(r) is not (-32700 or -32601));
        Assert.False(exitCode.IsCompleted, label);
    }

    [Fact]
    public async Task HeaderWithBareLineFeeds_IsRead()
    {
        await SendAsync("Content-Length: " + Encoding.UTF8.GetByteCount(Ping(7)) + "\n\n" + Ping(7));

        var reply = await FrameReader.ReadResponseAsync(stream, Timeout);

        Assert.Equal(7, reply.GetProperty("id").GetInt32());
        Assert.Equal(-32601, ErrorCode(reply));
    }

    [Fact]
    public async Task HeaderThatNeverEnds_IsNotBufferedWithoutEnd()
    {
        await SendAsync(new string('x', 20_000));
        await SendAsync(Frame(Ping(1001)));

        var replies = await ReadUntilPingAsync();

        Assert.Single(replies, r => ErrorCode(r) == -32700);
    }

    public static TheoryData<string, string, int?> BadMessages => new()
    {
        { "method null", """{"jsonrpc":"2.0","id":3,"method":null}""", -32600 },
        { "method a number", """{"jsonrpc":"2.0","id":3,"method":5}""", -32600 },
        { "method null, notification", """{"jsonrpc":"2.0","method":null}""", null },
        { "initialize with params 5", """{"jsonrpc":"2.0","id":3,"method":"initialize","params":5}""", -32602 },
        { "initialize with params \"x\"", """{"jsonrpc":"2.0","id":3,"method":"initialize","params":"x"}""", -32602 },
        { "initialize with params true", """{"jsonrpc":"2.0","id":3,"method":"initialize","params":true}""", -32602 },
        { "executeCommand with params \"s\"", """{"jsonrpc":"2.0","id":3,"method":"workspace/executeCommand","params":"s"}""", -32602 },
        { "unknown method with params \"s\"", """{"jsonrpc":"2.0","id":3,"method":"test/x","params":"s"}""", -32602 },
        { "setTrace with params 5", """{"jsonrpc":"2.0","method":"$/setTrace","params":5}""", null },
        { "didOpen with params 5", """{"jsonrpc":"2.0","method":"textDocument/didOpen","params":5}""", null },
        { "result for an id never sent", """{"jsonrpc":"2.0","id":424242,"result":1}""", null },
        { "error for an id never sent", """{"jsonrpc":"2.0","id":424242,"error":{"code":1,"message":"x"}}""", null },
        { "malformed error for an id never sent", """{"jsonrpc":"2.0","id":424242,"error":5}""", null },
        { "id an object", """{"jsonrpc":"2.0","id":{"a":1},"method":"test/x"}""", -32600 },
    };

    [Theory]
    [MemberData(nameof(BadMessages))]
    public async Task BadMessage_IsAnsweredOnlyIfItIsARequest_AndTheServerKeepsServing(string label, string json, int? expectedCode)
    {
        await SendAsync(Frame("""{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"""));
        Assert.True((await FrameReader.ReadResponseAsync(stream, Timeout)).TryGetProperty("result", out _));
        await SendAsync(Frame("""{"jsonrpc":"2.0","method":"initialized","params":{}}"""));

        await SendAsync(Frame(json));
        await SendAsync(Frame(Ping(1001)));
        var replies = await ReadUntilPingAsync();

        if (expectedCode is { } code)
        {
            var reply = Assert.Single(replies);
            Assert.Equal(code, ErrorCode(reply));
            Assert.DoesNotContain("   at ", reply.ToString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(replies);
        }

        Assert.False(exitCode.IsCompleted, label);
    }

    private static string Ping(int id) => $$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"test/ping","params":{}}""";

    private static string Frame(string json) => $"Content-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}";

    private static int? ErrorCode(JsonElement reply) =>
        reply.TryGetProperty("error", out var error) ? error.GetProperty("code").GetInt32() : null;

    private async Task SendAsync(string bytes)
    {
        await stream.WriteAsync(Encoding.UTF8.GetBytes(bytes), Timeout);
        await stream.FlushAsync(Timeout);
    }

    /// <summary>The responses before the first answered ping (id 1001 or 1002), without it.</summary>
    private async Task<List<JsonElement>> ReadUntilPingAsync()
    {
        var replies = new List<JsonElement>();
        while (true)
        {
            var reply = await FrameReader.ReadResponseAsync(stream, Timeout);
            if (reply.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() is 1001 or 1002)
            {
                Assert.Equal(-32601, ErrorCode(reply));
                return replies;
            }

            replies.Add(reply);
            Assert.True(replies.Count < 10, $"an error flood: {string.Join(" ", replies)}");
        }
    }
}
