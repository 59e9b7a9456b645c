using System.CommandLine;
using System.Net;
using Sandbox.Cli.Commands;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;

namespace Sandbox.Cli.Tests.Serve;

public sealed class ServeCommandTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "sandbox-serve-cmd-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Serve_RunnerCannotStart_ExitsWithInternalErrorAndNeverListens()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var command = ServeCommand.Create((_, _, _) => throw new SandboxUnavailableException("no LXC here"));
        using var output = new StringWriter();

        var code = await new RootCommand { command }
            .Parse(["serve", "--urls", "http://127.0.0.1:0", "--data", _data])
            .InvokeAsync(new InvocationConfiguration { Output = output }, timeout.Token);

        Assert.Equal(70, code);
        Assert.DoesNotContain(ServeCommand.ListeningPrefix, output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_PortZero_PrintsTheBoundAddress_ServesThePage_AndStopsOnCancel()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var runner = new DisposableRpc();
        var command = ServeCommand.Create((url, token, _) =>
        {
            Assert.Equal("ws://runner.invalid/rpc", url);
            Assert.Null(token);
            return Task.FromResult<ISandboxRpc>(runner);
        });
        var output = new ListeningWriter();

        var serving = new RootCommand { command }
            .Parse(["serve", "--urls", "http://127.0.0.1:0", "--data", _data, "--runner", "ws://runner.invalid/rpc"])
            .InvokeAsync(new InvocationConfiguration { Output = output }, stop.Token);
        var address = await output.Address.Task.WaitAsync(timeout.Token);

        Assert.StartsWith("http://127.0.0.1:", address, StringComparison.Ordinal);
        Assert.DoesNotContain(":0", address[(address.LastIndexOf(':'))..], StringComparison.Ordinal);
        using (var http = new HttpClient())
        {
            using var page = await http.GetAsync(address + "/", timeout.Token);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("Sandbox playground", await page.Content.ReadAsStringAsync(timeout.Token), StringComparison.Ordinal);
        }

        await stop.CancelAsync();
        Assert.Equal(0, await serving.WaitAsync(timeout.Token));
        Assert.True(runner.Disposed, "the runner is disposed once serve stops");
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (Directory.Exists(_data))
        {
            Directory.Delete(_data, recursive: true);
        }
    }

    private sealed class ListeningWriter : StringWriter
    {
        public TaskCompletionSource<string> Address { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task WriteLineAsync(string? value)
        {
            if (value is not null && value.StartsWith(ServeCommand.ListeningPrefix, StringComparison.Ordinal))
            {
                Address.TrySetResult(value[ServeCommand.ListeningPrefix.Length..].Split(' ')[0].TrimEnd('/'));
            }

            return base.WriteLineAsync(value);
        }
    }

    private sealed class DisposableRpc : ISandboxRpc, IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return ValueTask.CompletedTask;
        }

        public Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<Runner.Judging.CheckResult> CheckAsync(CheckParams request, IProgress<Runner.Judging.TestResult>? tests, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) => Task.FromResult(new LanguagesResult([]));

        public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) => Task.FromResult(new ProblemsResult([]));

        public Task<Runner.Judging.ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
