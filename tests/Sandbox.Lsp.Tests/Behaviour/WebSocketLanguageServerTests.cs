using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Tests.Infrastructure;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using StreamJsonRpc;

namespace Sandbox.Lsp.Tests.Behaviour;

/// <summary>The behaviour suite over WebSocket (one JSON-RPC message per text message) through TestServer.</summary>
public sealed class WebSocketLanguageServerTests : LanguageServerBehaviourTests
{
    internal override async Task<ServerConnection> StartServerAsync(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout)
        => await WebSocketServer.StartAsync(factory, configure, timeout);

    [Fact]
    public async Task StdinFileSetting_IsRefused_TheServersFileIsNotRead()
    {
        var secret = Path.GetTempFileName();
        await File.WriteAllTextAsync(secret, "the server's secret\n", Timeout);
        try
        {
            await StartInitializedAsync(new { sandbox = new { stdinFile = secret } });
            await Client.OpenAsync(PyUri, "python", "print(input())\n");

            var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));
            await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri, stdin = "sent by the client\n" });

            Assert.Equal((int)LspErrorCode.InvalidParams, error.Code);
            Assert.Contains("stdinFile", error.Message, StringComparison.Ordinal);
            Assert.Equal("sent by the client\n", Assert.Single(Fake.Runs).Stdin);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public async Task FileUriNotOpen_IsNotReadFromTheServersDisk()
    {
        var secret = Path.Combine(Path.GetTempPath(), $"sandbox-lsp-{Guid.NewGuid():N}.py");
        await File.WriteAllTextAsync(secret, "print('the server secret')\n", Timeout);
        try
        {
            await StartInitializedAsync();

            var run = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = new Uri(secret).AbsoluteUri }));
            var problem = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Problem, new { uri = new Uri(secret).AbsoluteUri }));

            Assert.Equal((int)LspErrorCode.UnknownDocument, run.Code);
            Assert.Equal((int)LspErrorCode.NoProblem, problem.Code);
            Assert.Empty(Fake.Runs);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Theory]
    [InlineData("/etc")]
    [InlineData("/root/secret.yaml")]
    [InlineData("../problems/fizzbuzz")]
    [InlineData("fizzbuzz.yaml")]
    [InlineData("FizzBuzz")]
    public async Task ProblemThatIsNotALibraryId_IsRefused(string problem)
    {
        // The embedded runner loads a problem from a path as well: a web client could make the server read its folders.
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var check = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri, problem }));
        var declared = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Problem, new { problem }));
        await Client.OpenAsync("file:///p/declares.py", "python", $"# sandbox: problem={problem}\nprint(1)\n");
        var fromFirstLine = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Check, new { uri = "file:///p/declares.py" }));
        await Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri, problem = "hello" });

        Assert.All([check, declared, fromFirstLine], e => Assert.Equal((int)LspErrorCode.InvalidParams, e.Code));
        Assert.Contains("library id", check.Message, StringComparison.Ordinal);
        Assert.Equal("hello", Assert.Single(Fake.Checks).Problem);
    }

    [Fact]
    public async Task RunnerSettings_NamingAnotherHost_AreIgnoredWithAWarning_TheServerNeverConnectsThere()
    {
        // Server-side request forgery: a page allowed to connect named a host of its choosing as the runner, and the
        // server opened a WebSocket to it (from the server's machine, probing its network) with a token of the page's.
        using var trap = new ConnectionTrap();
        var own = new RunnerEndpoint("ws://own.runner.example/rpc", "/etc/sandbox/token");
        FactoryBehaviour = endpoint => endpoint == own ? Task.FromResult<ISandboxRpc>(Fake) : ConnectForRealAsync(endpoint);
        await StartAsync(o => o.DefaultRunner = own);

        await Client.InitializeAsync(new { sandbox = new { runnerUrl = trap.Url, token = "the page's token" } });
        await Client.NotifyAsync(LspMethods.DidChangeConfiguration, new { settings = new { sandbox = new { runner = new { url = $"ws://localhost:{trap.Port}/rpc", tokenFile = "/root/secret.txt" } } } });
        // Editors resend every setting when one changes: the same ignored values are not shown again.
        await Client.NotifyAsync(LspMethods.DidChangeConfiguration, new { settings = new { sandbox = new { runner = new { url = $"ws://localhost:{trap.Port}/rpc", tokenFile = "/root/secret.txt" } } } });
        await Client.OpenAsync(PyUri, "python", "print(1)\n");
        var run = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Equal("ok", run.GetProperty("verdict").GetString());
        Assert.Single(Fake.Runs);
        lock (Endpoints)
        {
            Assert.NotEmpty(Endpoints);
            Assert.All(Endpoints, e => Assert.Equal(own, e));
        }

        Assert.Equal(0, trap.Connections);
        var warnings = Client.Notifications(LspMethods.ShowMessage).Select(m => m.GetProperty("message").GetString()!).ToList();
        Assert.Equal(2, warnings.Count);
        Assert.All(warnings, w => Assert.Contains("the runner is fixed by the server", w, StringComparison.Ordinal));
        Assert.Contains("sandbox.runnerUrl, sandbox.token setting", warnings[0], StringComparison.Ordinal);
        Assert.Contains("sandbox.runnerUrl, sandbox.tokenFile setting", warnings[1], StringComparison.Ordinal);
        Assert.All(warnings, w => Assert.DoesNotContain("own.runner.example", w, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunnerSettings_WithTheServersRunnerDown_TheErrorPointsAtTheServersOptions()
    {
        using var trap = new ConnectionTrap();
        FactoryBehaviour = endpoint => endpoint.Url is null
            ? Task.FromException<ISandboxRpc>(new SandboxUnavailableException("LXC is not installed"))
            : ConnectForRealAsync(endpoint);
        await StartAsync();

        await Client.InitializeAsync(new { runnerUrl = trap.Url });
        var error = await Client.WaitForAsync(LspMethods.ShowMessage, m => m.GetProperty("type").GetInt32() == 1);

        Assert.Contains("LXC is not installed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("--runner", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("sandbox.runnerUrl", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, trap.Connections);
    }

    [Fact]
    public async Task TwoClients_EachHaveTheirOwnSession()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var fake = new FakeSandboxRpc();
        using var host = await WebSocketServer.StartHostAsync((_, _) => Task.FromResult<ISandboxRpc>(fake), null, timeout.Token);
        await using var first = new LspTestClient(new WebSocketMessageHandler(await WebSocketServer.ConnectAsync(host, timeout.Token), LspJson.CreateFormatter()), timeout.Token);
        await using var second = new LspTestClient(new WebSocketMessageHandler(await WebSocketServer.ConnectAsync(host, timeout.Token), LspJson.CreateFormatter()), timeout.Token);
        await first.InitializeAsync();
        await second.InitializeAsync();

        await first.OpenAsync(PyUri, "python", "print('first')\n");
        var notOpenInSecond = await ErrorOfAsync(second.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));
        await first.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Equal((int)LspErrorCode.UnknownDocument, notOpenInSecond.Code);
        Assert.Single(first.Notifications(LspMethods.SandboxOutput));
        Assert.Empty(second.Notifications(LspMethods.SandboxOutput));
    }

    [Fact]
    public async Task ClosingTheSocket_KillsTheSessionsRuns()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var fake = new FakeSandboxRpc();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runnerSawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        fake.OnRun = async (_, _, ct) =>
        {
            try
            {
                return await FakeSandboxRpc.RunUntilCancelled(started, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Seen as the run ends, not from a callback: a registration on ct can be disposed before its turn
                // when the Task.Delay's own callback (newer, so first) ends the run inline.
                runnerSawCancellation.TrySetResult();
                throw;
            }
        };
        using var host = await WebSocketServer.StartHostAsync((_, _) => Task.FromResult<ISandboxRpc>(fake), null, timeout.Token);
        var socket = await WebSocketServer.ConnectAsync(host, timeout.Token);
        var client = new LspTestClient(new WebSocketMessageHandler(socket, LspJson.CreateFormatter()), timeout.Token);
        await client.InitializeAsync();
        await client.OpenAsync(PyUri, "python", "while True: pass\n");
        var run = client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await started.Task.WaitAsync(timeout.Token);

        // The editor goes away without a goodbye.
        socket.Abort();
        await client.DisposeAsync();

        await runnerSawCancellation.Task.WaitAsync(timeout.Token);
        Assert.Equal(fake.Runs.Single().RunId, await fake.FirstCancel.Task.WaitAsync(timeout.Token));
        await Assert.ThrowsAnyAsync<Exception>(() => run);
    }

    [Fact]
    public async Task MalformedMessage_IsAnsweredWithParseError_AndTheServerKeepsServing()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var host = await WebSocketServer.StartHostAsync((_, _) => Task.FromResult<ISandboxRpc>(new FakeSandboxRpc()), null, timeout.Token);
        using var socket = await WebSocketServer.ConnectAsync(host, timeout.Token);

        await SendAsync(socket, """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}""", timeout.Token);
        var initialized = await ReceiveResponseAsync(socket, timeout.Token);
        await SendAsync(socket, """{"jsonrpc":"2.0","id":2,"method":"workspace/exec""", timeout.Token);
        var parseError = await ReceiveResponseAsync(socket, timeout.Token);
        await SendAsync(socket, """{"jsonrpc":"2.0","id":3,"method":"workspace/executeCommand","params":{"command":"sandbox.listProblems"}}""", timeout.Token);
        var listed = await ReceiveResponseAsync(socket, timeout.Token);

        Assert.True(initialized.TryGetProperty("result", out _), initialized.ToString());
        Assert.True(parseError.TryGetProperty("error", out _), parseError.ToString());
        Assert.True(listed.TryGetProperty("result", out _), listed.ToString());
        Assert.Equal(-32700, parseError.GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("fizzbuzz", listed.GetProperty("result").GetProperty("problems")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task PlainHttpRequest_IsRefusedWithAHint()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var host = await WebSocketServer.StartHostAsync((_, _) => Task.FromResult<ISandboxRpc>(new FakeSandboxRpc()), null, timeout.Token);
        using var http = Microsoft.AspNetCore.TestHost.HostBuilderTestServerExtensions.GetTestClient(host);

        var response = await http.GetAsync(new Uri("/lsp", UriKind.Relative), timeout.Token);

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("WebSocket", await response.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
    }

    private static Task SendAsync(WebSocket socket, string text, CancellationToken cancellationToken)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private static async Task<JsonElement> ReceiveResponseAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await ReceiveAsync(socket, cancellationToken);
            if (!message.TryGetProperty("method", out _))
            {
                return message;
            }
        }
    }

    private static async Task<JsonElement> ReceiveAsync(WebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), cancellationToken);
            count += result.Count;
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(buffer.AsMemory(0, count)).RootElement.Clone();
            }
        }
    }
}
