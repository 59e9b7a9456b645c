using System.Text.Json.Serialization;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Lsp.Features.Commands;

// The results of sandbox.run and sandbox.check are the JSON of `sandbox run --json` / `sandbox check --json`
// (ARCHITECTURE.md): every key present, null where there is no value. Keep in sync with src/Sandbox.Cli.

/// <summary>Result of <c>sandbox.run</c>.</summary>
public sealed record RunCommandResult(
    RunVerdict Verdict,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? ExitCode,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] int? Signal,
    string Stdout,
    string Stderr,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CompileOutput,
    long CpuTimeMs,
    long WallTimeMs,
    long MemoryKb,
    bool OutputTruncated,
    string? InternalMessage = null)
{
    public static RunCommandResult From(RunResult r) => new(
        r.Verdict, r.ExitCode, r.Signal, r.Stdout, r.Stderr, r.CompileOutput, r.CpuTimeMs, r.WallTimeMs, r.MemoryKb, r.OutputTruncated, r.InternalMessage);
}

/// <summary>Result of <c>sandbox.check</c>.</summary>
public sealed record CheckCommandResult(
    TestVerdict Verdict,
    int Passed,
    int Total,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? CompileOutput,
    IReadOnlyList<CheckCommandTest> Tests)
{
    public static CheckCommandResult From(CheckResult r) => new(
        r.Verdict, r.Passed, r.Total, r.CompileOutput, r.Tests.Select(t => new CheckCommandTest(t.Name, t.Sample, t.Verdict, t.TimeMs, t.MemoryKb, t.Detail)).ToList());
}

/// <summary>One test of <see cref="CheckCommandResult"/>; <c>detail</c> (a sample's diff) only for public samples.</summary>
public sealed record CheckCommandTest(string Name, bool Sample, TestVerdict Verdict, long TimeMs, long MemoryKb, string? Detail = null);
