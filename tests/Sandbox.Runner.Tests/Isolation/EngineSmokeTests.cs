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
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = await sandbox.Runner.RunAsync(new RunRequest("bash", "echo hi; id -u; echo err >&2; grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp):' /proc/self/status"), null, timeout.Token);
        Assert.True(result.Verdict == RunVerdict.Ok, result.ToString());
        Assert.Equal("hi\n1000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
    }
}
