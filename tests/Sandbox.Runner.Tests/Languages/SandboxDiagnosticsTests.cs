using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Languages;

/// <summary>
/// Every captured case, run again through the real sandbox: the diagnostics read from what the engine returns
/// are the ones read from the captures, so the captures (and the tests built on them) show what users get.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class SandboxDiagnosticsTests(SandboxFixture sandbox)
{
    public static TheoryData<string> CaseNames => [.. CapturedOutput.Cases.Select(c => $"{c.Language}/{c.Name}")];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Run_InTheSandbox_GivesTheCapturedDiagnostics(string name)
    {
        var captured = CapturedOutput.Cases.Single(c => $"{c.Language}/{c.Name}" == name);
        var language = sandbox.Languages.Find(captured.Language)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));

        var result = await sandbox.Runner.RunAsync(new RunRequest(captured.Language, captured.Source), null, timeout.Token);

        var compileFailed = captured.CompileExit is not null and not 0;
        Assert.True(compileFailed == (result.Verdict == RunVerdict.CompileError), $"{name}: {result}");
        Assert.Equal(
            DiagnosticParser.Parse(language, captured.CompileOutput ?? "", DiagnosticOrigin.Compile),
            DiagnosticParser.Parse(language, result.CompileOutput ?? "", DiagnosticOrigin.Compile));
        if (!compileFailed)
        {
            Assert.Equal(
                DiagnosticParser.Parse(language, captured.RunStderr ?? "", DiagnosticOrigin.Runtime),
                DiagnosticParser.Parse(language, result.Stderr, DiagnosticOrigin.Runtime));
        }
    }
}
