using Sandbox.Runner.Execution;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Isolation;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class EngineSmokeTests(SandboxFixture sandbox)
{
    [Fact]
    public async Task Run_BashHello_RunsUnprivilegedWithNoCapabilities()
    {
        // No supplementary group either (id -G would list it after the run's own gid).
        var result = await RunBashAsync("echo hi; id -u; id -G; echo err >&2; grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status");
        Assert.Equal("hi\n1000\n1000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }

    [Fact]
    public async Task Run_StartsWithTheUsualUmask()
    {
        // The agent itself works with umask 0; a program must not inherit it (world-writable files by default).
        var result = await RunBashAsync("umask; touch f; mkdir d; stat -c '%a' f d");
        Assert.Equal("0022\n644\n755\n", result.Stdout);
    }

    /// <summary>Runs a bash script, which must end <c>ok</c>.</summary>
    private async Task<RunResult> RunBashAsync(string script)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = await sandbox.Runner.RunAsync(new RunRequest("bash", script), null, timeout.Token);
        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        return result;
    }

    [Theory]
    [InlineData(0)] // empty, inline
    [InlineData(1000)] // inline in the request
    [InlineData(65_536 - 16 - 16 - 8)] // the largest that fits in one request with an 8-byte name
    [InlineData(65_536 - 16 - 16 - 8 + 1)] // one byte more: passed as a sealed memfd
    [InlineData(3_000_000)] // memfd, many reads in the agent
    public async Task ExtraFiles_ArriveByteForByte_InlineOrThroughAMemfd(int size)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var content = new byte[size];
        new Random(size).NextBytes(content);
        var compiled = await sandbox.Runner.CompileAsync("bash", "sha256sum data.bin; stat -c '%s %a %U' data.bin", timeout.Token);
        Assert.NotNull(compiled.Program);
        var result = await sandbox.Runner.ExecuteAsync(
            compiled.Program,
            new ExecutionRequest { ExtraFiles = [new SandboxFile("data.bin", content)] },
            null,
            timeout.Token);
        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(content));
        Assert.Equal($"{hash}  data.bin\n{size} 644 sandbox\n", result.Stdout);
    }
}
