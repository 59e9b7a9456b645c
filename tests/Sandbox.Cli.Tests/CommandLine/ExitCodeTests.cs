using Sandbox.Cli.Commands;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary>The exit-code rules of the command-line contract, case by case (the process tests show them end to end).</summary>
public sealed class ExitCodeTests
{
    [Theory]
    [InlineData(RunVerdict.Ok, 0, null, 0)]
    [InlineData(RunVerdict.RuntimeError, 3, null, 3)]
    [InlineData(RunVerdict.RuntimeError, null, 11, 139)]
    [InlineData(RunVerdict.CompileError, 1, null, 1)]
    [InlineData(RunVerdict.TimeLimit, null, 24, 152)]
    [InlineData(RunVerdict.TimeLimit, null, null, 124)]
    [InlineData(RunVerdict.MemoryLimit, null, 9, 137)]
    [InlineData(RunVerdict.OutputLimit, null, 9, 137)]
    [InlineData(RunVerdict.SecurityViolation, null, 31, 159)]
    [InlineData(RunVerdict.InternalError, null, null, 70)]
    public void Run_ExitCode_FollowsTheContract(RunVerdict verdict, int? exitCode, int? signal, int expected)
    {
        var result = new RunResult { Verdict = verdict, ExitCode = exitCode, Signal = signal };

        Assert.Equal(expected, RunCommand.ExitCodeOf(result));
    }

    [Fact]
    public void Run_MemoryLimitWithoutSignalOrCode_IsStillAFailure()
    {
        Assert.NotEqual(0, RunCommand.ExitCodeOf(new RunResult { Verdict = RunVerdict.MemoryLimit, ExitCode = 0 }));
    }

    [Theory]
    [InlineData(SandboxErrorCode.UnknownLanguage, 2)]
    [InlineData(SandboxErrorCode.UnknownProblem, 2)]
    [InlineData(SandboxErrorCode.BadProblem, 2)]
    [InlineData(SandboxErrorCode.LimitsAboveMaximum, 2)]
    [InlineData(SandboxErrorCode.Unauthorized, 2)]
    [InlineData(SandboxErrorCode.InvalidRequest, 2)]
    [InlineData(SandboxErrorCode.HostBusy, 70)]
    [InlineData(SandboxErrorCode.Internal, 70)]
    [InlineData(SandboxErrorCode.SandboxUnavailable, 70)]
    public void RunnerErrors_MapToUsageOrInternal(SandboxErrorCode code, int expected)
    {
        var (exit, message) = ErrorMapping.Classify(new SandboxRpcException(code, "what happened"));

        Assert.Equal(expected, exit);
        Assert.Equal("what happened", message);
    }

    [Fact]
    public void RunnerInternalError_WithTheEmbeddedRunnersLogHidden_SaysHowToSeeIt()
    {
        var error = new SandboxRpcException(SandboxErrorCode.Internal, "the runner failed (run id 1); the runner's log has the details");

        Assert.Equal((70, "the runner failed (run id 1); the runner's log has the details; run again with --verbose to see it"), ErrorMapping.Classify(error, logHidden: true));
        Assert.Equal((70, error.Message), ErrorMapping.Classify(error, logHidden: false));
        Assert.Equal((2, "bad"), ErrorMapping.Classify(new SandboxRpcException(SandboxErrorCode.InvalidRequest, "bad"), logHidden: true));
    }

    [Fact]
    public void LocalFailures_MapToUsageOrInternal_WithoutStackTraces()
    {
        Assert.Equal(2, ErrorMapping.Classify(new FileNotFoundException("x.py: no such file")).ExitCode);
        Assert.Equal(2, ErrorMapping.Classify(new SandboxUsageException("bad --runner")).ExitCode);
        Assert.Equal(70, ErrorMapping.Classify(new SandboxConnectionException("cannot connect")).ExitCode);
        Assert.Equal(70, ErrorMapping.Classify(new SandboxUnavailableException("no LXC")).ExitCode);
        var (exit, message) = ErrorMapping.Classify(new InvalidOperationException("boom"));
        Assert.Equal(70, exit);
        Assert.Equal("internal error: boom", message);
    }
}
