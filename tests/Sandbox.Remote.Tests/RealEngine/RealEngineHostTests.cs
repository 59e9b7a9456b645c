using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Remote.Server;
using Sandbox.Remote.Tests.Infrastructure;
using Sandbox.Runner;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Tests.RealEngine;

/// <summary>
/// A runner host over the real engine (LXC on this machine, as root), reached through <see cref="RemoteSandboxClient"/>:
/// what <c>sandbox run --runner ws://...</c> does.
/// </summary>
[Trait("Category", "Sandbox")]
[Collection(RealEngineCollection.Name)]
public sealed class RealEngineHostTests : IAsyncLifetime
{
    private readonly CancellationTokenSource timeout = TestTimeouts.Create(TimeSpan.FromMinutes(10));
    private WebApplication app = null!;
    private RemoteSandboxClient client = null!;
    private Uri httpBase = null!;

    private CancellationToken Timeout => timeout.Token;

    public async Task InitializeAsync()
    {
        app = SandboxHost.Create(
            new SandboxHostOptions { Urls = "http://127.0.0.1:0", LogLevel = "warning", Slots = 2 },
            services =>
            {
                services.AddSandboxRunner(o => o.Slots = 2);
                services.AddSandboxJudging();
            },
            logToConsole: Environment.GetEnvironmentVariable("SANDBOX_TEST_LOG") == "1");
        await app.StartAsync(Timeout);
        httpBase = new Uri(SandboxHost.Addresses(app).First());
        using var http = new HttpClient { BaseAddress = httpBase };
        // Provisioning runs in the background; /readyz turns 200 when the warm containers are up.
        while (!(await http.GetAsync(new Uri("/readyz", UriKind.Relative), Timeout)).IsSuccessStatusCode)
        {
            await Task.Delay(100, Timeout);
        }

        client = new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = new Uri($"ws://{httpBase.Authority}/rpc") });
    }

    public async Task DisposeAsync()
    {
        await client.DisposeAsync();
        await app.StopAsync(CancellationToken.None);
        await app.DisposeAsync();
        timeout.Dispose();
    }

    [Fact]
    public async Task Run_PythonHello_StreamsTheSandboxedOutput()
    {
        var streamed = new ConcurrentQueue<OutputEvent>();

        var result = await client.RunAsync(new RunParams("python", "print('Hello, world!')"), new Recorder<OutputEvent>(streamed.Enqueue), Timeout).Within(Timeout);

        Assert.Equal(RunVerdict.Ok, result.Verdict);
        Assert.Equal("Hello, world!\n", result.Stdout);
        Assert.Equal("Hello, world!\n", string.Concat(streamed.Where(e => e.Stream == OutputStreamKind.Stdout).Select(e => e.Text)));
    }

    [Fact]
    public async Task Run_ProgramWritingEveryByteValue_ArrivesByteExactThroughTheClient()
    {
        byte[] everyByte = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];
        var streamed = new ConcurrentQueue<OutputEvent>();
        // Every byte value on stdout, then backwards on stderr, with a character split between two writes.
        const string program = "import sys\nsys.stdout.buffer.write(bytes(range(256))); sys.stdout.flush()\nsys.stdout.buffer.write(b'\\xc3'); sys.stdout.flush()\nsys.stdout.buffer.write(b'\\xa9')\nsys.stderr.buffer.write(bytes(reversed(range(256))))\n";

        var result = await client.RunAsync(new RunParams("python", program), new Recorder<OutputEvent>(streamed.Enqueue), Timeout).Within(Timeout);

        Assert.Equal(RunVerdict.Ok, result.Verdict);
        byte[] stdout = [.. everyByte, 0xC3, 0xA9];
        byte[] stderr = [.. everyByte.Reverse()];
        Assert.Equal(stdout, result.StdoutBytes.ToArray());
        Assert.Equal(stderr, result.StderrBytes.ToArray());
        Assert.Equal(stdout, streamed.Where(e => e.Stream == OutputStreamKind.Stdout).SelectMany(e => e.GetBytes().ToArray()).ToArray());
        Assert.Equal(stderr, streamed.Where(e => e.Stream == OutputStreamKind.Stderr).SelectMany(e => e.GetBytes().ToArray()).ToArray());
        Assert.Equal(System.Text.Encoding.UTF8.GetString(stdout), result.Stdout);
    }

    [Fact]
    public async Task Run_BinaryStdin_ReachesTheProgramByteForByteThroughTheClient()
    {
        var input = new byte[100_000];
        new Random(7).NextBytes(input);

        var result = await client.RunAsync(
            new RunParams("python", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read())\n", StdinBytes: input),
            null,
            Timeout).Within(Timeout);

        Assert.Equal(RunVerdict.Ok, result.Verdict);
        Assert.Equal(input, result.StdoutBytes.ToArray());
    }

    [Fact]
    public async Task Run_ClientGoesAwayMidRun_TheSlotIsFreedAndTheHostRunsTheNext()
    {
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var leaving = new RemoteSandboxClient(new RemoteSandboxClientOptions { Endpoint = client.Endpoint });
        var run = leaving.RunAsync(
            new RunParams("python", "import time\nprint('started', flush=True)\nwhile True: time.sleep(0.01)\n"),
            new Recorder<OutputEvent>(_ => first.TrySetResult()),
            Timeout);
        await first.Task.Within(Timeout);

        await leaving.DisposeAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => run.Within(Timeout));
        using var http = new HttpClient { BaseAddress = httpBase };
        while (!(await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Timeout)).Contains("sandbox_busy_slots 0\n", StringComparison.Ordinal))
        {
            await Task.Delay(20, Timeout);
        }

        var next = await client.RunAsync(new RunParams("python", "print(2)"), null, Timeout).Within(Timeout);
        Assert.Equal("2\n", next.Stdout);
    }

    [Fact]
    public async Task Check_FizzbuzzAccepted_StreamsEveryTest()
    {
        var tests = new ConcurrentQueue<TestResult>();
        var source = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "problems/fizzbuzz/submissions/accepted/fizzbuzz.py"), Timeout);

        var result = await client.CheckAsync(new CheckParams("python", source, Problem: "fizzbuzz"), new Recorder<TestResult>(tests.Enqueue), Timeout).Within(Timeout);

        Assert.Equal(TestVerdict.Accepted, result.Verdict);
        Assert.Equal(result.Total, tests.Count);
        Assert.All(tests.Where(t => !t.Sample), t => Assert.Null(t.Detail));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Sandbox.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Sandbox.sln not found above the test assembly");
    }

    private sealed class Recorder<T>(Action<T> record) : IProgress<T>
    {
        public void Report(T value) => record(value);
    }
}
