using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.Lsp.Tests.Infrastructure;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox lsp --stdio</c> as an editor starts it: a real process, frames on its stdin and stdout.</summary>
[Collection(CliCollection.Name)]
public sealed class LspCommandProcessTests
{
    private static readonly object InitializeParams = new
    {
        processId = Environment.ProcessId,
        rootUri = (string?)null,
        capabilities = new { window = new { workDoneProgress = true } },
        clientInfo = new { name = "cli-process-tests" },
    };

    [Fact]
    public async Task Lsp_Stdio_AnswersInitializeAndExitsCleanlyOnShutdownAndExit()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = LspStdioClient.Start();

        var initialize = await client.RequestAsync("initialize", InitializeParams, timeout.Token);
        await client.NotifyAsync("initialized", new { }, timeout.Token);
        var shutdown = await client.RequestAsync("shutdown", null, timeout.Token);
        await client.NotifyAsync("exit", null, timeout.Token);
        var code = await client.WaitForExitAsync(timeout.Token);

        var commands = initialize.GetProperty("capabilities").GetProperty("executeCommandProvider").GetProperty("commands")
            .EnumerateArray().Select(c => c.GetString()).ToList();
        foreach (var command in new[] { "sandbox.run", "sandbox.check", "sandbox.stop", "sandbox.listProblems", "sandbox.listLanguages" })
        {
            Assert.Contains(command, commands);
        }

        Assert.Equal("sandbox", initialize.GetProperty("serverInfo").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, shutdown.ValueKind);
        Assert.True(code == 0, $"exit {code}\n{await client.Stderr}");
        // The read loop parsed every byte of stdout as a frame (it throws otherwise).
        await client.StdoutClosed;
    }

    [Fact]
    public async Task Lsp_Stdio_RunsTheOpenDocumentInTheSandboxAndStreamsItsOutput()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var client = LspStdioClient.Start();
        await client.RequestAsync("initialize", InitializeParams, timeout.Token);
        await client.NotifyAsync("initialized", new { }, timeout.Token);
        const string uri = "file:///work/greet.py";
        await client.NotifyAsync("textDocument/didOpen", new
        {
            textDocument = new { uri, languageId = "python", version = 1, text = "import sys\nprint('hi ' + sys.stdin.read().strip())\nsys.exit(4)\n" },
        }, timeout.Token);

        var result = await client.RequestAsync("workspace/executeCommand", new
        {
            command = "sandbox.run",
            arguments = new object[] { new { uri, stdin = "editor\n" } },
        }, timeout.Token);

        Assert.Equal("runtime-error", result.GetProperty("verdict").GetString());
        Assert.Equal(4, result.GetProperty("exitCode").GetInt32());
        Assert.Equal("hi editor\n", result.GetProperty("stdout").GetString());
        var streamed = client.Notifications
            .Where(n => n.GetProperty("method").GetString() == "sandbox/output")
            .Select(n => n.GetProperty("params"))
            .Where(p => p.GetProperty("stream").GetString() == "stdout")
            .Aggregate("", (text, p) => text + p.GetProperty("text").GetString());
        Assert.Equal("hi editor\n", streamed);
        var engine = Assert.Single(SandboxContainers.InstancesOf(client.ProcessId));
        Assert.NotEmpty(SandboxContainers.ContainersOf(engine));

        await client.RequestAsync("shutdown", null, timeout.Token);
        await client.NotifyAsync("exit", null, timeout.Token);
        Assert.Equal(0, await client.WaitForExitAsync(timeout.Token));
        await client.StdoutClosed;
        // The shared embedded engine is stopped with the server: no warm containers keep running after it.
        SandboxContainers.AssertNoneLeft(engine);
    }

    [Fact]
    public async Task Lsp_Stdio_SigtermDuringARun_KillsTheProgramAndLeavesNoContainers()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.{Random.Shared.Next(100, 999)}";
        await using var client = LspStdioClient.Start();
        await client.RequestAsync("initialize", InitializeParams, timeout.Token);
        await client.NotifyAsync("initialized", new { }, timeout.Token);
        const string uri = "file:///work/sleeper.py";
        await client.NotifyAsync("textDocument/didOpen", new
        {
            textDocument = new { uri, languageId = "python", version = 1, text = $"import os\nos.execvp('sleep', ['sleep', '{marker}'])\n" },
        }, timeout.Token);
        var run = client.RequestAsync("workspace/executeCommand", new { command = "sandbox.run", arguments = new object[] { new { uri } } }, timeout.Token);
        await RunCommandProcessTests.WaitUntilAsync(() => RunCommandProcessTests.ProcessesWithArgument(marker).Count > 0, "the sandboxed sleep to start", timeout.Token);
        var engine = Assert.Single(SandboxContainers.InstancesOf(client.ProcessId));

        await client.SignalAsync("TERM");
        await client.WaitForExitAsync(timeout.Token);

        // The run never answers (the server is gone), the program is dead and the engine's containers are removed.
        await Assert.ThrowsAnyAsync<Exception>(() => run);
        await RunCommandProcessTests.WaitUntilAsync(() => RunCommandProcessTests.ProcessesWithArgument(marker).Count == 0, "the sandboxed sleep to be killed", timeout.Token);
        SandboxContainers.AssertNoneLeft(engine);
    }

    [Fact]
    public async Task Lsp_Stdio_ExitsWhenTheClientClosesItsStdin()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var client = LspStdioClient.Start();
        await client.RequestAsync("initialize", InitializeParams, timeout.Token);

        client.CloseStdin();
        await client.WaitForExitAsync(timeout.Token);

        await client.StdoutClosed;
    }

    [Fact]
    public async Task Lsp_WebSocket_PrintsItsAddressAnswersInitializeAndStopsOnSigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = CliServer.Start("lsp", "--ws", "http://127.0.0.1:0");
        var address = await WebSocketAddressAsync(server, timeout.Token);

        await AssertAnswersInitializeAsync(address, timeout.Token);

        await server.SignalAsync("TERM");
        var code = await server.WaitForExitAsync(timeout.Token);

        Assert.True(code == 0, $"exit {code}\n{server}");
    }

    [Fact]
    public async Task Lsp_WebSocket_TextThatIsNotUtf8_GetsCloseStatus1007_NotAReset()
    {
        // .NET's WebSocket fails such a connection with a 1007 close frame. On the runner host, disposing the socket at once
        // made Kestrel reset the connection before the frame left (clients saw 1006); here the session's end took long
        // enough for the frame to go out, and the shared closing (WebSocketClosing) makes that not depend on timing.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = CliServer.Start("lsp", "--ws", "http://127.0.0.1:0");
        var address = await WebSocketAddressAsync(server, timeout.Token);

        using (var socket = new ClientWebSocket())
        {
            await socket.ConnectAsync(new Uri(address), timeout.Token);
            // 0xC3 starts a two-byte sequence; 0x28 cannot continue it.
            byte[] invalid = [.. "{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":\""u8, 0xC3, 0x28, .. "\"}"u8];
            await socket.SendAsync(invalid, WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
            var received = await socket.ReceiveAsync(new byte[1024], timeout.Token);

            Assert.Equal(WebSocketMessageType.Close, received.MessageType);
            Assert.Equal(WebSocketCloseStatus.InvalidPayloadData, socket.CloseStatus);
        }

        // The server goes on serving.
        await AssertAnswersInitializeAsync(address, timeout.Token);
    }

    private static async Task<string> WebSocketAddressAsync(CliServer server, CancellationToken cancellationToken) =>
        (await server.WaitForLineAsync(@"^sandbox lsp: listening on (?<url>ws://127\.0\.0\.1:\d+/lsp)$", cancellationToken)).Groups["url"].Value;

    /// <summary>A fresh WebSocket connection to <paramref name="address"/> gets the sandbox server's answer to initialize.</summary>
    private static async Task AssertAnswersInitializeAsync(string address, CancellationToken cancellationToken)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri(address), cancellationToken);
        var request = JsonSerializer.Serialize(new { jsonrpc = "2.0", id = 1, method = "initialize", @params = InitializeParams });
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        var response = await ReceiveResponseAsync(socket, 1, cancellationToken);
        Assert.Equal("sandbox", response.GetProperty("result").GetProperty("serverInfo").GetProperty("name").GetString());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cancellationToken);
    }

    [Fact]
    public async Task Lsp_WebSocket_RefusesBrowserPagesFromOriginsNotAllowed()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = CliServer.Start("lsp", "--ws", "http://127.0.0.1:0", "--allow-origin", "http://localhost:3000");
        var authority = (await server.WaitForLineAsync(@"^sandbox lsp: listening on ws://(?<authority>127\.0\.0\.1:\d+)/lsp$", timeout.Token)).Groups["authority"].Value;
        var address = new Uri($"http://{authority}");

        var foreign = await ServeCommandProcessTests.HandshakeStatusAsync(address, "http://evil.example", timeout.Token);
        var allowed = await ServeCommandProcessTests.HandshakeStatusAsync(address, "http://localhost:3000", timeout.Token);
        var noBrowser = await ServeCommandProcessTests.HandshakeStatusAsync(address, origin: null, timeout.Token);

        Assert.Equal("403", foreign);
        Assert.Equal("101", allowed);
        Assert.Equal("101", noBrowser);
    }

    [Fact]
    public async Task Lsp_WebSocket_RefusesRequestsForAnotherHostName_DnsRebinding()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = CliServer.Start("lsp", "--ws", "http://127.0.0.1:0", "--allow-host", "ide.example");
        var authority = (await server.WaitForLineAsync(@"^sandbox lsp: listening on ws://(?<authority>127\.0\.0\.1:\d+)/lsp$", timeout.Token)).Groups["authority"].Value;
        var address = new Uri($"http://{authority}");

        // The origin check alone let this in: Origin names the same host:port as Host.
        var rebound = await ServeCommandProcessTests.HandshakeStatusAsync(address, $"http://evil.example:{address.Port}", timeout.Token, host: $"evil.example:{address.Port}");
        var reboundNoBrowser = await ServeCommandProcessTests.HandshakeStatusAsync(address, origin: null, timeout.Token, host: "evil.example");
        var localhost = await ServeCommandProcessTests.HandshakeStatusAsync(address, $"http://localhost:{address.Port}", timeout.Token, host: $"localhost:{address.Port}");
        var proxied = await ServeCommandProcessTests.HandshakeStatusAsync(address, "https://ide.example", timeout.Token, host: "ide.example");

        Assert.Equal("403", rebound);
        Assert.Equal("403", reboundNoBrowser);
        Assert.Equal("101", localhost);
        Assert.Equal("101", proxied);
    }

    [Fact]
    public async Task Lsp_WebSocket_ClientRunnerUrl_IsIgnored_TheServerNeverConnectsThere_AndRunsGoToItsOwnRunner()
    {
        // Server-side request forgery: a page allowed to connect named a host of its choosing as the runner (with a
        // token of its own), and the server opened a WebSocket to it from its own machine.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var trap = new ConnectionTrap();
        await using var host = CliServer.Start("host", "--urls", "http://127.0.0.1:0", "--slots", "1");
        var hostUrl = (await host.WaitForLineAsync(HostListeningLine, timeout.Token)).Groups["url"].Value;
        await using var server = CliServer.Start("lsp", "--ws", "http://127.0.0.1:0", "--runner", RpcUrl(hostUrl));
        var address = await WebSocketAddressAsync(server, timeout.Token);
        await using var client = await LspWebSocketClient.ConnectAsync(new Uri(address), timeout.Token);

        await client.RequestAsync("initialize", WithOptions(new { sandbox = new { runnerUrl = trap.Url, token = "a page's token" } }), timeout.Token);
        await client.NotifyAsync("initialized", new { }, timeout.Token);
        await client.NotifyAsync("workspace/didChangeConfiguration", new { settings = new { sandbox = new { runnerUrl = $"ws://localhost:{trap.Port}/rpc" } } }, timeout.Token);
        var result = await RunGreetingAsync(client.NotifyAsync, client.RequestAsync, "page", timeout.Token);

        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Equal("hi page\n", result.GetProperty("stdout").GetString());
        var warnings = ShownMessages(client.Notifications);
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("the runner is fixed by the server", w, StringComparison.Ordinal));
        Assert.Equal(0, trap.Connections);
        await AssertHostCountedOneRunAsync(hostUrl, timeout.Token);
        // Nor did the language server start an embedded runner of its own.
        Assert.Empty(SandboxContainers.InstancesOf(server.Process.Id));
    }

    [Fact]
    public async Task Lsp_Stdio_ClientRunnerUrlSetting_IsHonoured_RunsGoToThatHost()
    {
        // Over stdio the client is the user who started the server: naming the runner in settings is a feature.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var host = CliServer.Start("host", "--urls", "http://127.0.0.1:0", "--slots", "1");
        var hostUrl = (await host.WaitForLineAsync(HostListeningLine, timeout.Token)).Groups["url"].Value;
        await using var client = LspStdioClient.Start();

        await client.RequestAsync("initialize", WithOptions(new { sandbox = new { runnerUrl = RpcUrl(hostUrl) } }), timeout.Token);
        await client.NotifyAsync("initialized", new { }, timeout.Token);
        var result = await RunGreetingAsync(client.NotifyAsync, client.RequestAsync, "editor", timeout.Token);

        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Equal("hi editor\n", result.GetProperty("stdout").GetString());
        Assert.Empty(ShownMessages(client.Notifications));
        await AssertHostCountedOneRunAsync(hostUrl, timeout.Token);
        // The run went to the host: the server (embedded by default) never started an engine of its own.
        Assert.Empty(SandboxContainers.InstancesOf(client.ProcessId));
    }

    private const string HostListeningLine = @"Now listening on: (?<url>http://127\.0\.0\.1:\d+)";

    private static string RpcUrl(string hostUrl) => hostUrl.Replace("http://", "ws://", StringComparison.Ordinal) + "/rpc";

    private static object WithOptions(object initializationOptions) => new
    {
        processId = Environment.ProcessId,
        rootUri = (string?)null,
        capabilities = new { },
        clientInfo = new { name = "cli-process-tests" },
        initializationOptions,
    };

    private static async Task<JsonElement> RunGreetingAsync(
        Func<string, object?, CancellationToken, Task> notify, Func<string, object?, CancellationToken, Task<JsonElement>> request, string name, CancellationToken cancellationToken)
    {
        const string uri = "file:///work/greet.py";
        await notify("textDocument/didOpen", new
        {
            textDocument = new { uri, languageId = "python", version = 1, text = "print('hi ' + input())\n" },
        }, cancellationToken);
        return await request("workspace/executeCommand", new
        {
            command = "sandbox.run",
            arguments = new object[] { new { uri, stdin = name + "\n" } },
        }, cancellationToken);
    }

    private static List<string> ShownMessages(IEnumerable<JsonElement> notifications) =>
        [.. notifications
            .Where(n => n.GetProperty("method").GetString() == "window/showMessage")
            .Select(n => n.GetProperty("params").GetProperty("message").GetString()!)];

    private static async Task AssertHostCountedOneRunAsync(string hostUrl, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(hostUrl + "/metrics"), cancellationToken);
        Assert.Matches(@"(?m)^sandbox_runs_total\{[^}]*language=""python""[^}]*verdict=""ok""\} 1$", metrics);
    }

    private static async Task<JsonElement> ReceiveResponseAsync(ClientWebSocket socket, int id, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult received;
            do
            {
                received = await socket.ReceiveAsync(buffer, cancellationToken);
                await message.WriteAsync(buffer.AsMemory(0, received.Count), cancellationToken);
            }
            while (!received.EndOfMessage);

            Assert.NotEqual(WebSocketMessageType.Close, received.MessageType);
            using var json = JsonDocument.Parse(message.ToArray());
            if (json.RootElement.TryGetProperty("id", out var responseId) && responseId.ValueKind == JsonValueKind.Number
                && responseId.GetInt32() == id && !json.RootElement.TryGetProperty("method", out _))
            {
                return json.RootElement.Clone();
            }
        }
    }
}
