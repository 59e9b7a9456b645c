using System.Text.Json;
using Sandbox.Remote.Tests.Infrastructure;

namespace Sandbox.Remote.Tests.Host;

/// <summary>The JSON on the wire, byte for byte where front ends rely on it (docs/runner-host.md shows the same).</summary>
public sealed class WireFormatTests : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create();
    private HostHarness host = null!;

    private CancellationToken Timeout => timeout.Token;

    public async Task InitializeAsync() => host = await HostHarness.StartAsync(cancellationToken: Timeout);

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        timeout.Dispose();
    }

    [Fact]
    public async Task Run_SendsOutputNotificationsThenTheCamelCaseResult()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":1,"method":"run","params":{"language":"python","source":"chunks:10","runId":"w1"}}""", Timeout);
        var (response, notifications) = await socket.ReceiveResponseAsync(1, Timeout);

        Assert.Equal(10, notifications.Count);
        var first = notifications[0];
        Assert.Equal("output", first.GetProperty("method").GetString());
        Assert.False(first.TryGetProperty("id", out _));
        Assert.Equal("""{"runId":"w1","stream":"stdout","text":"line 0\n"}""", first.GetProperty("params").GetRawText());
        Assert.Equal("stderr", notifications[9].GetProperty("params").GetProperty("stream").GetString());
        var result = response!.Value.GetProperty("result");
        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Equal(0, result.GetProperty("exitCode").GetInt32());
        Assert.False(result.TryGetProperty("signal", out _), "nulls are not written");
        Assert.True(result.TryGetProperty("cpuTimeMs", out _));
    }

    [Fact]
    public async Task Check_SendsTestResultNotificationsThenTheResult()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":2,"method":"check","params":{"language":"python","source":"wrong","problem":"sum","runId":"k1"}}""", Timeout);
        var (response, notifications) = await socket.ReceiveResponseAsync(2, Timeout);

        Assert.Equal(["testResult", "testResult", "testResult"], notifications.Select(n => n.GetProperty("method").GetString()));
        Assert.Equal(
            """{"runId":"k1","name":"sample/1","sample":true,"verdict":"accepted","timeMs":10,"memoryKb":1000}""",
            notifications[0].GetProperty("params").GetRawText());
        Assert.Equal("wrong-answer", notifications[2].GetProperty("params").GetProperty("verdict").GetString());
        var result = response!.Value.GetProperty("result");
        Assert.Equal("wrong-answer", result.GetProperty("verdict").GetString());
        Assert.Equal(2, result.GetProperty("passed").GetInt32());
    }

    [Fact]
    public async Task Run_PropertyNamesInAnyCase_AreAccepted()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":3,"method":"run","params":{"Language":"python","SOURCE":"echo:x"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(3, Timeout);

        Assert.True(response!.Value.TryGetProperty("result", out var result), response.Value.GetRawText());
        Assert.Equal("x", result.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Run_StdinBase64_ReachesTheProgramAndOutputThatIsNotUtf8_ComesWithBase64()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        // a NUL 0xFF b: 0xFF is never UTF-8.
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":4,"method":"run","params":{"language":"python","source":"echo-stdin-bytes","stdinBase64":"YQD/Yg==","runId":"b1"}}""", Timeout);
        var (response, notifications) = await socket.ReceiveResponseAsync(4, Timeout);

        Assert.Equal(2, notifications.Count);
        // "a\0" is UTF-8 (its text says it all); "\xFFb" is not.
        Assert.Equal("""{"runId":"b1","stream":"stdout","text":"a\u0000"}""", notifications[0].GetProperty("params").GetRawText());
        Assert.Equal("""{"runId":"b1","stream":"stdout","text":"\uFFFDb","base64":"/2I="}""", notifications[1].GetProperty("params").GetRawText());
        var result = response!.Value.GetProperty("result");
        Assert.Equal("a\0\uFFFDb", result.GetProperty("stdout").GetString());
        Assert.Equal("YQD/Yg==", result.GetProperty("stdoutBase64").GetString());
        Assert.False(result.TryGetProperty("stderrBase64", out _), "stderr is empty, which is UTF-8");
    }

    [Fact]
    public async Task Run_StdinBase64ThatIsUtf8_SendsTextOnlyAsBefore()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":5,"method":"run","params":{"language":"python","source":"echo-stdin-bytes","stdinBase64":"aMOpIQ==","runId":"b2"}}""", Timeout);
        var (response, notifications) = await socket.ReceiveResponseAsync(5, Timeout);

        // "hé!" split inside "é": each half alone is not UTF-8, so those chunks carry base64; the result is UTF-8 and does not.
        Assert.Equal("hé!", string.Concat(notifications.Select(n => n.GetProperty("params").GetProperty("text").GetString())));
        var result = response!.Value.GetProperty("result");
        Assert.Equal("hé!", result.GetProperty("stdout").GetString());
        Assert.False(result.TryGetProperty("stdoutBase64", out _), result.GetRawText());
    }

    [Theory]
    [InlineData(""" "stdin":"x","stdinBase64":"eA==" """)] // both
    [InlineData(""" "stdinBase64":"not base64!" """)]
    public async Task Run_BadStdin_IsAnErrorAndTheConnectionGoesOn(string stdin)
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":6,"method":"run","params":{"language":"python","source":"echo-stdin-bytes",""" + stdin + "}}", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(6, Timeout);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":7,"method":"run","params":{"language":"python","source":"echo:ok"}}""", Timeout);
        var (next, _) = await socket.ReceiveResponseAsync(7, Timeout);

        Assert.True(response!.Value.TryGetProperty("error", out var error), response.Value.GetRawText());
        Assert.Contains("stdin", error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("ok", next!.Value.GetProperty("result").GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Languages_WithoutParams_ReturnsTheList()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":4,"method":"languages"}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(4, Timeout);

        var languages = response!.Value.GetProperty("result").GetProperty("languages");
        Assert.Equal("python", languages[0].GetProperty("id").GetString());
        Assert.Equal(".py", languages[0].GetProperty("extensions")[0].GetString());
    }

    [Fact]
    public async Task Error_HasTheDocumentedCodeAndNoData()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":5,"method":"run","params":{"language":"cobol","source":"x"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(5, Timeout);

        var error = response!.Value.GetProperty("error");
        Assert.Equal(1001, error.GetProperty("code").GetInt32());
        Assert.StartsWith("unknown language 'cobol'", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.False(error.TryGetProperty("data", out var data) && data.ValueKind != JsonValueKind.Null);
    }

    [Fact]
    public async Task InternalError_CarriesNoStackTrace()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":6,"method":"run","params":{"language":"python","source":"fail"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(6, Timeout);

        var text = response!.Value.GetRawText();
        Assert.Contains("1008", text, StringComparison.Ordinal);
        Assert.DoesNotContain("stack", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("/var/lib", text, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancelRequest_KillsTheRunAndAnswersRequestCancelled()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);
        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":7,"method":"run","params":{"language":"python","source":"block"}}""", Timeout);
        var started = await host.Engine.Started.Reader.ReadAsync(Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":7}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(7, Timeout);

        Assert.Equal(-32800, response!.Value.GetProperty("error").GetProperty("code").GetInt32());
        Assert.True(started.Token.IsCancellationRequested);
    }

    [Fact]
    public async Task Problem_PathInsteadOfId_IsRefusedByAHost()
    {
        await using var socket = await RawSocket.ConnectAsync(host.RpcUri, null, Timeout);

        await socket.SendTextAsync("""{"jsonrpc":"2.0","id":8,"method":"check","params":{"language":"python","source":"x","problem":"/etc/passwd"}}""", Timeout);
        var (response, _) = await socket.ReceiveResponseAsync(8, Timeout);

        Assert.Equal(1007, response!.Value.GetProperty("error").GetProperty("code").GetInt32());
    }
}
