using System.Text.Json;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Tests.Infrastructure;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using StreamJsonRpc;
using StreamJsonRpc.Protocol;

namespace Sandbox.Lsp.Tests.Behaviour;

/// <summary>
/// What every transport must do the same. One subclass per transport (stdio framing over an in-memory duplex stream,
/// WebSocket through TestServer); every await is bounded by the test-wide timeout.
/// </summary>
public abstract class LanguageServerBehaviourTests : IAsyncLifetime
{
    protected const string PyUri = "file:///home/user/project/solution.py";

    // Line 3 (1-based) fails at run time.
    protected const string PyWithError = "print('start')\nx = 1\nprint(undefined_name)\n";

    protected const string PyTraceback =
        "Traceback (most recent call last):\n" +
        "  File \"/usr/lib/python3.11/runpy.py\", line 88, in _run_code\n" +
        "  File \"/work/main.py\", line 3, in <module>\n" +
        "    print(undefined_name)\n" +
        "NameError: name 'undefined_name' is not defined\n";

    private readonly CancellationTokenSource timeoutSource = new(TimeSpan.FromSeconds(30));
    private ServerConnection? connection;

    internal FakeSandboxRpc Fake { get; } = new();

    internal List<RunnerEndpoint> Endpoints { get; } = [];

    /// <summary>How the runner factory behaves; by default it hands out <see cref="Fake"/>.</summary>
    internal Func<RunnerEndpoint, Task<ISandboxRpc>>? FactoryBehaviour { get; set; }

    protected CancellationToken Timeout => timeoutSource.Token;

    internal LspTestClient Client => connection?.Client ?? throw new InvalidOperationException("call StartAsync first");

    internal Task<int>? ExitCode => connection?.ExitCode;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (connection is not null)
        {
            await connection.DisposeAsync();
        }

        timeoutSource.Dispose();
    }

    internal abstract Task<ServerConnection> StartServerAsync(SandboxRpcFactory factory, Action<LanguageServerOptions>? configure, CancellationToken timeout);

    protected async Task StartAsync(Action<LanguageServerOptions>? configure = null)
    {
        connection = await StartServerAsync(
            (endpoint, _) =>
            {
                lock (Endpoints)
                {
                    Endpoints.Add(endpoint);
                }

                return FactoryBehaviour?.Invoke(endpoint) ?? Task.FromResult<ISandboxRpc>(Fake);
            },
            configure,
            Timeout);
    }

    protected async Task StartInitializedAsync(object? initializationOptions = null, bool workDoneProgress = false)
    {
        await StartAsync();
        await Client.InitializeAsync(initializationOptions, workDoneProgress);
    }

    /// <summary>
    /// What the <c>sandbox</c> command's factory does for a runner URL: a real connection through Sandbox.Remote's
    /// client (so a test can see where the server connects).
    /// </summary>
    protected Task<ISandboxRpc> ConnectForRealAsync(RunnerEndpoint endpoint)
        => Remote.Client.SandboxRpcConnector.ConnectAsync(
            endpoint.Url, endpoint.TokenFile, () => throw new InvalidOperationException("no embedded runner in this test"), Timeout);

    /// <summary>The JSON-RPC error a request ended with (StreamJsonRpc surfaces some codes as other exception types).</summary>
    protected static async Task<(int Code, string Message)> ErrorOfAsync(Task task)
    {
        var ex = await Assert.ThrowsAnyAsync<RemoteRpcException>(() => task);
        return ex switch
        {
            RemoteInvocationException invocation => (invocation.ErrorCode, invocation.Message),
            RemoteMethodNotFoundException notFound => ((int)notFound.ErrorCode, notFound.Message),
            _ => throw new InvalidOperationException($"unexpected {ex.GetType().Name}: {ex.Message}"),
        };
    }

    [Fact]
    public async Task Initialize_AdvertisesFullSyncCodeLensesAndSandboxCommands()
    {
        await StartAsync();

        var result = await Client.InitializeAsync();

        var capabilities = result.GetProperty("capabilities");
        Assert.Equal(1, capabilities.GetProperty("textDocumentSync").GetProperty("change").GetInt32());
        Assert.True(capabilities.GetProperty("textDocumentSync").GetProperty("openClose").GetBoolean());
        Assert.False(capabilities.GetProperty("codeLensProvider").GetProperty("resolveProvider").GetBoolean());
        var commands = capabilities.GetProperty("executeCommandProvider").GetProperty("commands").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Equal(["sandbox.run", "sandbox.check", "sandbox.stop", "sandbox.listProblems", "sandbox.listLanguages", "sandbox.problem"], commands);
        Assert.Equal("sandbox", result.GetProperty("serverInfo").GetProperty("name").GetString());
    }

    [Fact]
    public async Task Request_BeforeInitialize_ReturnsServerNotInitialized()
    {
        await StartAsync();

        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.ListLanguages));

        Assert.Equal((int)LspErrorCode.ServerNotInitialized, error.Code);
    }

    [Fact]
    public async Task UnknownMethod_ReturnsMethodNotFound_AndServerKeepsServing()
    {
        await StartInitializedAsync();

        var error = await ErrorOfAsync(Client.RequestAsync("textDocument/hover", new { textDocument = new { uri = PyUri }, position = new { line = 0, character = 0 } }));

        Assert.Equal((int)JsonRpcErrorCode.MethodNotFound, error.Code);
        var languages = await Client.ExecuteAsync(SandboxCommands.ListLanguages);
        Assert.Equal(2, languages.GetProperty("languages").GetArrayLength());
    }

    [Fact]
    public async Task WrongParams_ReturnInvalidParams_AndServerKeepsServing()
    {
        await StartInitializedAsync();

        var notAnObject = await ErrorOfAsync(Client.RequestAsync(LspMethods.ExecuteCommand, new { command = SandboxCommands.Run, arguments = new[] { "not an object" } }));
        var wrongType = await ErrorOfAsync(Client.RequestAsync(LspMethods.ExecuteCommand, new { command = SandboxCommands.Run, arguments = new object[] { new { uri = 42 } } }));
        var noCommand = await ErrorOfAsync(Client.RequestAsync(LspMethods.ExecuteCommand, new { arguments = 5 }));
        var unknownCommand = await ErrorOfAsync(Client.ExecuteAsync("sandbox.fly", new { uri = PyUri }));

        Assert.True(notAnObject.Code == -32602 && wrongType.Code == -32602 && noCommand.Code == -32602, $"{notAnObject} {wrongType} {noCommand}");
        Assert.Equal((int)JsonRpcErrorCode.InvalidParams, notAnObject.Code);
        Assert.Equal((int)JsonRpcErrorCode.InvalidParams, wrongType.Code);
        Assert.Equal((int)JsonRpcErrorCode.InvalidParams, noCommand.Code);
        Assert.Equal((int)JsonRpcErrorCode.InvalidParams, unknownCommand.Code);
        Assert.Contains("sandbox.run", unknownCommand.Message, StringComparison.Ordinal);
        await Client.OpenAsync(PyUri, "python", "print(1)\n");
        var result = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        Assert.Equal("ok", result.GetProperty("verdict").GetString());
    }

    [Fact]
    public async Task Run_StreamsOutputBeforeTheResult_WithRunIdAndUri()
    {
        await StartInitializedAsync();
        Fake.OnRun = (request, output, _) =>
        {
            output!.Report(new OutputEvent(OutputStreamKind.Stdout, "one\n"));
            output.Report(new OutputEvent(OutputStreamKind.Stderr, "warn\n"));
            output.Report(new OutputEvent(OutputStreamKind.Stdout, "two\n"));
            return Task.FromResult(new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0, Stdout = "one\ntwo\n", Stderr = "warn\n", WallTimeMs = 31 });
        };
        await Client.OpenAsync(PyUri, "python", "print('one')\n");

        var result = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        // The notifications were flushed before the response, so they are all here already.
        var output = Client.Notifications(LspMethods.SandboxOutput).ToList();
        Assert.Equal(["stdout:one\n", "stderr:warn\n", "stdout:two\n"], output.Select(o => $"{o.GetProperty("stream").GetString()}:{o.GetProperty("text").GetString()}"));
        Assert.All(output, o => Assert.Equal(PyUri, o.GetProperty("uri").GetString()));
        Assert.Single(output.Select(o => o.GetProperty("runId").GetString()).Distinct());
        Assert.Equal(output[0].GetProperty("runId").GetString(), Fake.Runs.Single().RunId);
        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Equal(0, result.GetProperty("exitCode").GetInt32());
        Assert.Equal("one\ntwo\n", result.GetProperty("stdout").GetString());
        Assert.Equal(31, result.GetProperty("wallTimeMs").GetInt64());
        // The shape of `sandbox run --json`: every key, null where there is no value.
        Assert.Equal(JsonValueKind.Null, result.GetProperty("signal").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("compileOutput").ValueKind);
        Assert.False(result.GetProperty("outputTruncated").GetBoolean());
    }

    [Fact]
    public async Task Run_SendsSyncedTextStdinAndLimits_LanguageFromLanguageId()
    {
        await StartInitializedAsync(new { limits = new { timeLimitSeconds = 2.5, memoryLimitMb = 64 } });
        await Client.OpenAsync("untitled:Untitled-1", "python", "print(input())\n");
        await Client.ChangeAsync("untitled:Untitled-1", "print(input() * 2)\n", 2);

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = "untitled:Untitled-1", stdin = "ab\n" });

        var run = Fake.Runs.Single();
        Assert.Equal("python", run.Language);
        Assert.Equal("print(input() * 2)\n", run.Source);
        Assert.Equal("ab\n", run.Stdin);
        Assert.Equal(new LimitOverrides(TimeLimitSeconds: 2.5, MemoryLimitMb: 64), run.Limits);
    }

    [Fact]
    public async Task Run_LanguageFromExtension_OrExplicitArgument()
    {
        await StartInitializedAsync();
        await Client.OpenAsync("file:///p/main.cc", "plaintext", "int main(){}\n");
        await Client.OpenAsync("file:///p/script.txt", "plaintext", "print(1)\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = "file:///p/main.cc" });
        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = "file:///p/script.txt", language = "py" });
        var unknown = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = "file:///p/script.txt" }));

        Assert.Equal(["cpp", "python"], Fake.Runs.Select(r => r.Language));
        Assert.Equal((int)LspErrorCode.UnknownLanguage, unknown.Code);
        Assert.Contains("python", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_DocumentNotOpen_ReturnsUnknownDocument()
    {
        await StartInitializedAsync();

        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = "file:///nowhere/x.py" }));

        Assert.Equal((int)LspErrorCode.UnknownDocument, error.Code);
    }

    [Fact]
    public async Task Run_RuntimeError_PublishesDiagnosticOnTheFailingLine_IgnoringOtherFiles()
    {
        await StartInitializedAsync();
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.RuntimeError, ExitCode = 1, Stderr = PyTraceback });
        await Client.OpenAsync(PyUri, "python", PyWithError);

        var result = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Equal("runtime-error", result.GetProperty("verdict").GetString());
        var published = await Client.WaitForAsync(LspMethods.PublishDiagnostics);
        Assert.Equal(PyUri, published.GetProperty("uri").GetString());
        var diagnostic = Assert.Single(published.GetProperty("diagnostics").EnumerateArray());
        Assert.Equal(2, diagnostic.GetProperty("range").GetProperty("start").GetProperty("line").GetInt32());
        Assert.Equal(0, diagnostic.GetProperty("range").GetProperty("start").GetProperty("character").GetInt32());
        Assert.Equal("print(undefined_name)".Length, diagnostic.GetProperty("range").GetProperty("end").GetProperty("character").GetInt32());
        Assert.Equal(1, diagnostic.GetProperty("severity").GetInt32());
        Assert.Equal("sandbox", diagnostic.GetProperty("source").GetString());
    }

    [Fact]
    public async Task Run_CompileErrors_PublishDiagnosticsWithColumnsAndSeverities()
    {
        await StartInitializedAsync();
        const string source = "int main() {\n  int x = y;\n  return 0\n}\n";
        const string compileOutput =
            "main.cpp: In function 'int main()':\n" +
            "main.cpp:2:11: error: 'y' was not declared in this scope\n" +
            "main.cpp:2:7: warning: unused variable 'x' [-Wunused-variable]\n" +
            "/usr/include/c++/12/iostream:5:1: error: not ours\n" +
            "main.cpp:3:11: error: expected ';' before '}' token\n";
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.CompileError, CompileOutput = compileOutput });
        await Client.OpenAsync("file:///p/prog.cpp", "cpp", source);

        var result = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = "file:///p/prog.cpp" });

        Assert.Equal("compile-error", result.GetProperty("verdict").GetString());
        var diagnostics = (await Client.WaitForAsync(LspMethods.PublishDiagnostics)).GetProperty("diagnostics").EnumerateArray()
            .Select(d => (Line: d.GetProperty("range").GetProperty("start").GetProperty("line").GetInt32(),
                          Column: d.GetProperty("range").GetProperty("start").GetProperty("character").GetInt32(),
                          Severity: d.GetProperty("severity").GetInt32(),
                          Message: d.GetProperty("message").GetString()))
            .ToList();
        Assert.Equal(
            [(1, 10, 1, "'y' was not declared in this scope"), (1, 6, 2, "unused variable 'x' [-Wunused-variable]"), (2, 10, 1, "expected ';' before '}' token")],
            diagnostics);
    }

    [Fact]
    public async Task Diagnostics_AreClearedWhenTheDocumentChanges()
    {
        await StartInitializedAsync();
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.RuntimeError, ExitCode = 1, Stderr = PyTraceback });
        await Client.OpenAsync(PyUri, "python", PyWithError);
        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        await Client.ChangeAsync(PyUri, "print('fixed')\n", 2);

        var cleared = await Client.WaitForAsync(LspMethods.PublishDiagnostics, p => p.GetProperty("diagnostics").GetArrayLength() == 0);
        Assert.Equal(PyUri, cleared.GetProperty("uri").GetString());
    }

    [Fact]
    public async Task Diagnostics_AreClearedByACleanRun()
    {
        await StartInitializedAsync();
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.RuntimeError, ExitCode = 1, Stderr = PyTraceback });
        await Client.OpenAsync(PyUri, "python", PyWithError);
        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0 });

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        var published = Client.Notifications(LspMethods.PublishDiagnostics).ToList();
        Assert.Equal([1, 0], published.Select(p => p.GetProperty("diagnostics").GetArrayLength()));
    }

    [Fact]
    public async Task Check_ProblemFromFirstLineComment_StreamsTestResultsAndReturnsVerdict()
    {
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "#!/usr/bin/env python3\n# sandbox: problem=fizzbuzz\nprint(1)\n");

        var result = await Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri });

        Assert.Equal("fizzbuzz", Fake.Checks.Single().Problem);
        Assert.Equal("wrong-answer", result.GetProperty("verdict").GetString());
        Assert.Equal(1, result.GetProperty("passed").GetInt32());
        Assert.Equal(2, result.GetProperty("total").GetInt32());
        Assert.Equal("accepted", result.GetProperty("tests")[0].GetProperty("verdict").GetString());
        var tests = Client.Notifications(LspMethods.SandboxTestResult).ToList();
        Assert.Equal(["sample/1:accepted:12", "secret/1:wrong-answer:13"],
            tests.Select(t => $"{t.GetProperty("name").GetString()}:{t.GetProperty("verdict").GetString()}:{t.GetProperty("timeMs").GetInt64()}"));
        Assert.All(tests, t => Assert.Equal(PyUri, t.GetProperty("uri").GetString()));
        Assert.Equal(Fake.Checks.Single().RunId, tests[0].GetProperty("runId").GetString());
    }

    [Fact]
    public async Task Check_ExplicitProblemWins_AndNoProblemIsAnError()
    {
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var missing = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri }));
        await Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri, problem = "hello" });

        Assert.Equal((int)LspErrorCode.NoProblem, missing.Code);
        Assert.Contains("# sandbox: problem=ID", missing.Message, StringComparison.Ordinal);
        Assert.Equal("hello", Fake.Checks.Single().Problem);
    }

    [Fact]
    public async Task CancelRequest_KillsTheRun()
    {
        await StartInitializedAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runnerSawCancellation = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.OnRun = async (_, _, ct) =>
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
        await Client.OpenAsync(PyUri, "python", "while True: pass\n");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Timeout);

        var run = Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }, cancellationToken: cancel.Token);
        await started.Task.WaitAsync(Timeout);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        await runnerSawCancellation.Task.WaitAsync(Timeout);
        Assert.Equal(Fake.Runs.Single().RunId, await Fake.FirstCancel.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Stop_KillsTheRunOfTheDocument_AndTheRunAnswersRequestCancelled()
    {
        await StartInitializedAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.OnRun = (_, _, ct) => FakeSandboxRpc.RunUntilCancelled(started, ct);
        await Client.OpenAsync(PyUri, "python", "while True: pass\n");

        var run = Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await started.Task.WaitAsync(Timeout);
        var stop = await Client.ExecuteAsync(SandboxCommands.Stop, new { uri = PyUri });

        Assert.True(stop.GetProperty("cancelled").GetBoolean());
        // -32800 RequestCancelled: StreamJsonRpc surfaces it as a cancellation.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.Contains(Fake.Runs.Single().RunId!, Fake.Cancelled);
        var nothing = await Client.ExecuteAsync(SandboxCommands.Stop, new { uri = PyUri });
        Assert.False(nothing.GetProperty("cancelled").GetBoolean());
    }

    [Fact]
    public async Task NewRun_ReplacesThePreviousRunOfTheSameDocument()
    {
        await StartInitializedAsync();
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Fake.OnRun = (_, _, ct) => FakeSandboxRpc.RunUntilCancelled(firstStarted, ct);
        await Client.OpenAsync(PyUri, "python", "while True: pass\n");
        var first = Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await firstStarted.Task.WaitAsync(Timeout);
        Fake.OnRun = (_, _, _) => Task.FromResult(new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0 });

        var second = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Equal("ok", second.GetProperty("verdict").GetString());
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        Assert.Equal(Fake.Runs.First().RunId, await Fake.FirstCancel.Task.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Run_WithClientProgressSupport_CreatesATokenAndReportsBeginAndEnd()
    {
        await StartInitializedAsync(workDoneProgress: true);
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        var created = await Client.WaitForAsync(LspMethods.WorkDoneProgressCreate);
        var token = created.GetProperty("token").GetString();
        var progress = Client.Notifications(LspMethods.Progress).Where(p => p.GetProperty("token").GetString() == token).ToList();
        Assert.Equal(["begin", "end"], progress.Select(p => p.GetProperty("value").GetProperty("kind").GetString()));
        Assert.Contains("solution.py", progress[0].GetProperty("value").GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Contains("ok", progress[1].GetProperty("value").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_WithRequestWorkDoneToken_ReportsEachTestOnThatToken_WithoutCreate()
    {
        await StartInitializedAsync(workDoneProgress: true);
        await Client.OpenAsync(PyUri, "python", "# sandbox: problem=fizzbuzz\n");

        await Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri }, workDoneToken: "client-token-1");

        Assert.Empty(Client.Notifications(LspMethods.WorkDoneProgressCreate));
        var kinds = Client.Notifications(LspMethods.Progress)
            .Where(p => p.GetProperty("token").GetString() == "client-token-1")
            .Select(p => p.GetProperty("value").GetProperty("kind").GetString());
        Assert.Equal(["begin", "report", "report", "end"], kinds);
    }

    [Fact]
    public async Task Run_WhenTheClientNeverAnswersProgressCreate_GoesOnWithoutProgressAfterTheTimeout()
    {
        await StartAsync(o => o.ProgressCreateTimeout = TimeSpan.FromMilliseconds(300));
        Client.IgnoreProgressCreate = true;
        await Client.InitializeAsync(workDoneProgress: true);
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var result = await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Single(Client.Notifications(LspMethods.WorkDoneProgressCreate));
        Assert.Empty(Client.Notifications(LspMethods.Progress));
    }

    [Fact]
    public async Task Run_WithoutClientProgressSupport_SendsNoProgress()
    {
        await StartInitializedAsync(workDoneProgress: false);
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Empty(Client.Notifications(LspMethods.WorkDoneProgressCreate));
        Assert.Empty(Client.Notifications(LspMethods.Progress));
    }

    [Fact]
    public async Task CodeLens_RunOnFirstLine_AndCheckWhenTheFileDeclaresItsProblem()
    {
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "# sandbox: problem=fizzbuzz\nprint(1)\n");
        await Client.OpenAsync("file:///p/plain.py", "python", "print(1)\n");
        await Client.OpenAsync("file:///p/main.cpp", "cpp", "// sandbox: problem=hello\nint main(){}\n");

        var declared = await Client.RequestAsync(LspMethods.CodeLens, new { textDocument = new { uri = PyUri } });
        var plain = await Client.RequestAsync(LspMethods.CodeLens, new { textDocument = new { uri = "file:///p/plain.py" } });
        var cpp = await Client.RequestAsync(LspMethods.CodeLens, new { textDocument = new { uri = "file:///p/main.cpp" } });

        Assert.Equal(["Run in sandbox|sandbox.run", "Check against fizzbuzz|sandbox.check"],
            declared.EnumerateArray().Select(l => $"{l.GetProperty("command").GetProperty("title").GetString()}|{l.GetProperty("command").GetProperty("command").GetString()}"));
        Assert.All(declared.EnumerateArray(), l => Assert.Equal(0, l.GetProperty("range").GetProperty("start").GetProperty("line").GetInt32()));
        Assert.Equal(PyUri, declared[1].GetProperty("command").GetProperty("arguments")[0].GetProperty("uri").GetString());
        Assert.Equal("fizzbuzz", declared[1].GetProperty("command").GetProperty("arguments")[0].GetProperty("problem").GetString());
        Assert.Equal(1, plain.GetArrayLength());
        Assert.Equal("Check against hello", cpp[1].GetProperty("command").GetProperty("title").GetString());
    }

    [Fact]
    public async Task RunnerDown_ShowsWhatToFix_AndCommandsFailFast()
    {
        FactoryBehaviour = endpoint => Task.FromException<ISandboxRpc>(new HttpRequestException("Connection refused (127.0.0.1:9)"));
        await StartAsync(o => o.DefaultRunner = new RunnerEndpoint("ws://127.0.0.1:9/rpc", null));
        await Client.InitializeAsync();

        var shown = await Client.WaitForAsync(LspMethods.ShowMessage);
        await Client.OpenAsync(PyUri, "python", "print(1)\n");
        var error = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));

        Assert.Equal(1, shown.GetProperty("type").GetInt32());
        Assert.Contains("ws://127.0.0.1:9/rpc", shown.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("sandbox host", shown.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal((int)LspErrorCode.RunnerUnavailable, error.Code);
    }

    [Fact]
    public async Task RunnerThatHangs_IsReportedAfterTheConnectTimeout()
    {
        FactoryBehaviour = _ => new TaskCompletionSource<ISandboxRpc>().Task;
        await StartAsync(o => o.EmbeddedStartTimeout = TimeSpan.FromMilliseconds(300));
        await Client.InitializeAsync();

        var shown = await Client.WaitForAsync(LspMethods.ShowMessage);

        Assert.Contains("embedded runner", shown.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TraceFromInitializationOptions_SetsWhichLogsReachTheClient()
    {
        await StartInitializedAsync(new { trace = "debug" });
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        var logs = await Client.WaitForAsync(LspMethods.LogMessage, p => p.GetProperty("message").GetString()!.Contains("run ", StringComparison.Ordinal));
        Assert.InRange(logs.GetProperty("type").GetInt32(), 1, 4);
    }

    [Fact]
    public async Task TraceOff_SendsNoLogMessages()
    {
        await StartInitializedAsync(new { trace = "off" });
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        await Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });

        Assert.Empty(Client.Notifications(LspMethods.LogMessage));
    }

    [Fact]
    public async Task RunnerConnectionLostMidRun_IsRunnerUnavailable_AndShownToTheUser()
    {
        Fake.OnRun = (_, _, _) => Task.FromException<RunResult>(
            new Remote.Client.SandboxConnectionException("lost the connection to the runner at ws://h/rpc during 'run'; the host stopped or the network dropped"));
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var error = await InvocationErrorAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));
        var shown = await Client.WaitForAsync(LspMethods.ShowMessage);

        Assert.Equal((int)LspErrorCode.RunnerUnavailable, error.ErrorCode);
        Assert.Contains("lost the connection", error.Message, StringComparison.Ordinal);
        Assert.Contains("lost the connection", shown.GetProperty("message").GetString(), StringComparison.Ordinal);
        AssertNoStackTrace(error);
    }

    [Theory]
    [InlineData(SandboxErrorCode.UnknownProblem, LspErrorCode.RunnerRefused)]
    [InlineData(SandboxErrorCode.BadProblem, LspErrorCode.RunnerRefused)]
    [InlineData(SandboxErrorCode.LimitsAboveMaximum, LspErrorCode.RunnerRefused)]
    [InlineData(SandboxErrorCode.InvalidRequest, LspErrorCode.RunnerRefused)]
    [InlineData(SandboxErrorCode.Internal, LspErrorCode.RunnerRefused)]
    [InlineData(SandboxErrorCode.UnknownLanguage, LspErrorCode.UnknownLanguage)]
    [InlineData(SandboxErrorCode.HostBusy, LspErrorCode.RunnerUnavailable)]
    [InlineData(SandboxErrorCode.SandboxUnavailable, LspErrorCode.RunnerUnavailable)]
    internal async Task RunnerErrorCodes_BecomeTheDocumentedLspCodes(SandboxErrorCode runnerCode, LspErrorCode expected)
    {
        Fake.OnCheck = (_, _, _) => Task.FromException<Runner.Judging.CheckResult>(new SandboxRpcException(runnerCode, "the runner says no"));
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "# sandbox: problem=fizzbuzz\n");

        var error = await InvocationErrorAsync(Client.ExecuteAsync(SandboxCommands.Check, new { uri = PyUri }));

        Assert.Equal((int)expected, error.ErrorCode);
        Assert.Contains("the runner says no", error.Message, StringComparison.Ordinal);
        AssertNoStackTrace(error);
    }

    [Fact]
    public async Task UnexpectedFailure_IsAnInternalError_WithoutDotNetDetails()
    {
        Fake.OnRun = (_, _, _) => Task.FromException<RunResult>(new InvalidOperationException("something broke"));
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var error = await InvocationErrorAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));

        Assert.Equal((int)JsonRpcErrorCode.InternalError, error.ErrorCode);
        Assert.Contains("something broke", error.Message, StringComparison.Ordinal);
        AssertNoStackTrace(error);
    }

    [Fact]
    public async Task TimeLimitBeyondAnyRunner_IsRefusedWithAClearMessage_BeforeTheRunnerIsAsked()
    {
        await StartInitializedAsync(new { limits = new { timeLimitSeconds = 1e20 } });
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var error = await InvocationErrorAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri }));

        Assert.Equal((int)LspErrorCode.RunnerRefused, error.ErrorCode);
        Assert.Contains("timeLimitSeconds", error.Message, StringComparison.Ordinal);
        Assert.Empty(Fake.Runs);
        AssertNoStackTrace(error);
    }

    [Fact]
    public async Task OversizedDocument_OnARunnerHost_FailsAlone_WithoutBreakingAnotherRun()
    {
        // A host closes the connection that carried a message above its --max-message-size: here the shared
        // connection's other run dies with it, as a real connection would.
        var release = new TaskCompletionSource<RunResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var smallStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var lost = new Remote.Client.SandboxConnectionException("lost the connection to the runner at ws://runner/rpc during 'run'");
        Fake.OnRun = (request, _, _) =>
        {
            if (request.Source.Length > 100_000)
            {
                release.TrySetException(lost);
                throw lost;
            }

            smallStarted.TrySetResult();
            return release.Task;
        };
        var ownConnection = new FakeSandboxRpc { OnRun = (_, _, _) => Task.FromException<RunResult>(lost) };
        FactoryBehaviour = _ => Task.FromResult<ISandboxRpc>(Endpoints.Count == 1 ? Fake : ownConnection);
        await StartAsync(o => o.DefaultRunner = new RunnerEndpoint("ws://runner/rpc", null));
        await Client.InitializeAsync();
        await Client.OpenAsync(PyUri, "python", "print(1)\n");
        const string bigUri = "file:///home/user/project/big.py";
        await Client.OpenAsync(bigUri, "python", "x = 1\n" + new string('#', 200_000));

        var small = Client.ExecuteAsync(SandboxCommands.Run, new { uri = PyUri });
        await smallStarted.Task.WaitAsync(Timeout);
        var error = await InvocationErrorAsync(Client.ExecuteAsync(SandboxCommands.Run, new { uri = bigUri }));
        release.TrySetResult(new RunResult { Verdict = RunVerdict.Ok, ExitCode = 0 });
        var smallResult = await small;

        Assert.Equal((int)LspErrorCode.RunnerUnavailable, error.ErrorCode);
        Assert.Contains("max-message-size", error.Message, StringComparison.Ordinal);
        Assert.Equal("ok", smallResult.GetProperty("verdict").GetString());
        Assert.Single(ownConnection.Runs);
        Assert.Single(Fake.Runs);
    }

    private static async Task<RemoteInvocationException> InvocationErrorAsync(Task task) => await Assert.ThrowsAsync<RemoteInvocationException>(() => task);

    private static void AssertNoStackTrace(RemoteInvocationException error)
    {
        // The test client reads any data as CommonErrorData; what the server must not send is its type and stack fields.
        Assert.False(error.ErrorData is CommonErrorData { TypeName: not null } or CommonErrorData { StackTrace: not null }, "error data with .NET details");
        Assert.DoesNotContain("   at ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListCommands_ReturnTheRunnersLanguagesProblemsAndProblem()
    {
        await StartInitializedAsync();
        await Client.OpenAsync(PyUri, "python", "# sandbox: problem=fizzbuzz\n");

        var languages = await Client.ExecuteAsync(SandboxCommands.ListLanguages);
        var problems = await Client.ExecuteAsync(SandboxCommands.ListProblems);
        var byId = await Client.ExecuteAsync(SandboxCommands.Problem, new { problem = "fizzbuzz" });
        var byDeclaration = await Client.ExecuteAsync(SandboxCommands.Problem, new { uri = PyUri });
        var unknown = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.Problem, new { problem = "nope" }));

        Assert.Equal("python", languages.GetProperty("languages")[0].GetProperty("id").GetString());
        Assert.Equal("main.py", languages.GetProperty("languages")[0].GetProperty("sourceFile").GetString());
        Assert.Equal("fizzbuzz", problems.GetProperty("problems")[0].GetProperty("id").GetString());
        Assert.Equal("Print FizzBuzz.", byId.GetProperty("statementMarkdown").GetString());
        Assert.Equal("3\n", byDeclaration.GetProperty("samples")[0].GetProperty("input").GetString());
        Assert.Equal((int)LspErrorCode.RunnerRefused, unknown.Code);
        Assert.Contains("nope", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommandWithoutArguments_TargetsTheLastTouchedDocument_AndShowResultReportsIt()
    {
        await StartInitializedAsync(new { showResult = true });
        await Client.OpenAsync("file:///p/other.py", "python", "print(2)\n");
        await Client.OpenAsync(PyUri, "python", "print(1)\n");

        var result = await Client.RequestAsync(LspMethods.ExecuteCommand, new { command = SandboxCommands.Run });

        Assert.Equal("ok", result.GetProperty("verdict").GetString());
        Assert.Equal("print(1)\n", Fake.Runs.Single().Source);
        var shown = await Client.WaitForAsync(LspMethods.ShowMessage);
        Assert.Equal(3, shown.GetProperty("type").GetInt32());
        Assert.Contains("solution.py: ok", shown.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shutdown_ThenRequests_AreRefused()
    {
        await StartInitializedAsync();

        var shutdown = await Client.RequestAsync(LspMethods.Shutdown, null);
        var after = await ErrorOfAsync(Client.ExecuteAsync(SandboxCommands.ListLanguages));

        Assert.Equal(JsonValueKind.Null, shutdown.ValueKind);
        Assert.Equal((int)JsonRpcErrorCode.InvalidRequest, after.Code);
    }
}
