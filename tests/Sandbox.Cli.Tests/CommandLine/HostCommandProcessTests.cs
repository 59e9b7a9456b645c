using System.Net;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox host</c> as an operator starts it, and the CLI as its client (<c>--runner</c>).</summary>
[Collection(CliCollection.Name)]
public sealed class HostCommandProcessTests(CliFixture fixture)
{
    private const string ListeningLine = @"Now listening on: (?<url>http://127\.0\.0\.1:\d+)";

    [Theory]
    [InlineData("http://0.0.0.0:0")]
    [InlineData("http://[::]:0")]
    [InlineData("http://127.0.0.1:0;http://*:0")]
    public async Task Host_NonLoopbackWithoutToken_RefusesToStart(string urls)
    {
        var result = await Cli.RunAsync("host", "--urls", urls);

        Assert.True(result.ExitCode == 2, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("sandbox host: refusing to listen", line, StringComparison.Ordinal);
        Assert.Contains("--token-file", line, StringComparison.Ordinal);
        Assert.DoesNotContain("Now listening", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_TokenFileReadableByOthers_RefusesToStart()
    {
        var token = fixture.Write("loose.token", "0123456789abcdef0123456789abcdef\n");
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var result = await Cli.RunAsync("host", "--urls", "http://0.0.0.0:0", "--token-file", token);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("chmod 600", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_LocalhostWithPortZero_IsAUsageErrorNotACrash()
    {
        var result = await Cli.RunAsync("host", "--urls", "http://localhost:0");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("http://127.0.0.1:0", Assert.Single(result.StderrLines), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Host_Loopback_AnswersHealthzServesTheCliAndStopsOnSigterm()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var host = CliServer.Start("host", "--urls", "http://127.0.0.1:0", "--slots", "1");
        var url = (await host.WaitForLineAsync(ListeningLine, timeout.Token)).Groups["url"].Value;

        using (var http = new HttpClient())
        {
            using var health = await http.GetAsync(new Uri(url + "/healthz"), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var runner = url.Replace("http://", "ws://", StringComparison.Ordinal) + "/rpc";
        var run = await Cli.RunAsync(["run", CliPaths.Repo("examples", "hello.py"), "--runner", runner, "--stdin", "-"], stdin: "host\n");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal("Hello, host!\n", run.Stdout);
        var languages = await Cli.RunAsync("languages", "--runner", runner, "--json");
        Assert.True(languages.ExitCode == 0, languages.ToString());
        Assert.Contains("\"id\":\"python\"", languages.Stdout, StringComparison.Ordinal);
        using (var http = new HttpClient())
        {
            using var ready = await http.GetAsync(new Uri(url + "/readyz"), timeout.Token);
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            // The run above went through this host and is counted.
            var metrics = await http.GetStringAsync(new Uri(url + "/metrics"), timeout.Token);
            Assert.Matches(@"(?m)^sandbox_runs_total\{[^}]*language=""python""[^}]*verdict=""ok""\} [1-9]", metrics);
            Assert.Matches(@"(?m)^sandbox_slots 1$", metrics);
        }

        await host.AssertStopsCleanlyOnTermAsync(timeout.Token);
    }

    [Fact]
    public async Task Run_ThroughAHost_BinaryStdinAndOutputAreByteExact()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var host = CliServer.Start("host", "--urls", "http://127.0.0.1:0", "--slots", "1");
        var runner = (await host.WaitForLineAsync(ListeningLine, timeout.Token)).Groups["url"].Value.Replace("http://", "ws://", StringComparison.Ordinal) + "/rpc";
        var program = fixture.Write("echo_every_byte.py", "import sys\nsys.stdout.buffer.write(sys.stdin.buffer.read() + bytes(range(256)))\n");
        byte[] everyByte = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];
        byte[] input = [.. everyByte.Reverse()];
        var stdout = Path.Combine(fixture.Scratch, "remote_every_byte.out");
        var stderr = Path.Combine(fixture.Scratch, "remote_every_byte.err");

        var exit = await Cli.RunToFilesAsync(["run", program, "--runner", runner, "--stdin", "-"], stdout, stderr, input);

        Assert.True(exit == 0, $"exit {exit}: {await File.ReadAllTextAsync(stderr, timeout.Token)}");
        var written = await File.ReadAllBytesAsync(stdout, timeout.Token);
        Assert.Equal([.. input, .. everyByte], written);
        await host.AssertStopsCleanlyOnTermAsync(timeout.Token);
    }

    [Fact]
    public async Task Host_WithToken_ServesOnlyClientsThatSendIt()
    {
        var token = fixture.Write("host.token", Convert.ToHexString(Guid.NewGuid().ToByteArray()) + "\n");
        File.SetUnixFileMode(token, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var wrongToken = fixture.Write("wrong.token", Convert.ToHexString(Guid.NewGuid().ToByteArray()) + "\n");
        File.SetUnixFileMode(wrongToken, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await using var host = CliServer.Start("host", "--urls", "http://127.0.0.1:0", "--token-file", token, "--slots", "1");
        var runner = (await host.WaitForLineAsync(ListeningLine, timeout.Token)).Groups["url"].Value.Replace("http://", "ws://", StringComparison.Ordinal) + "/rpc";

        var without = await Cli.RunAsync("languages", "--runner", runner);
        var wrong = await Cli.RunAsync("languages", "--runner", runner, "--token-file", wrongToken);
        var with = await Cli.RunAsync("languages", "--runner", runner, "--token-file", token);

        RunCommandProcessTests.AssertUsageError(without, "needs a token (--token-file)");
        RunCommandProcessTests.AssertUsageError(wrong, "wrong token");
        Assert.True(with.ExitCode == 0, with.ToString());
        Assert.Contains("python", with.Stdout, StringComparison.Ordinal);
        // A remote host never reads the client's files: a problem path is refused, a problem id works.
        var solution = CliPaths.Repo("problems", "fizzbuzz", "submissions", "accepted", "fizzbuzz.py");
        var byPath = await Cli.RunAsync("check", solution, "--problem", CliPaths.Repo("problems", "fizzbuzz.yaml"), "--runner", runner, "--token-file", token);
        RunCommandProcessTests.AssertUsageError(byPath, "takes problem ids only");
        var byId = await Cli.RunAsync("check", solution, "--problem", "fizzbuzz", "--runner", runner, "--token-file", token, "--json");
        Assert.True(byId.ExitCode == 0, byId.ToString());
        Assert.StartsWith("{\"verdict\":\"accepted\"", byId.Stdout, StringComparison.Ordinal);
        await host.SignalAsync("TERM");
        Assert.Equal(0, await host.WaitForExitAsync(timeout.Token));
    }
}
