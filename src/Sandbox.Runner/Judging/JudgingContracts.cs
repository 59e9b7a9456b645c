using Sandbox.Runner.Execution;

namespace Sandbox.Runner.Judging;

/// <summary>Verdict for one test of a check (kebab-case on the wire).</summary>
public enum TestVerdict
{
    /// <summary>Output accepted by the validator.</summary>
    Accepted,
    /// <summary>Output rejected by the validator.</summary>
    WrongAnswer,
    /// <summary>Time limit exceeded.</summary>
    TimeLimit,
    /// <summary>Memory limit exceeded.</summary>
    MemoryLimit,
    /// <summary>Output limit exceeded.</summary>
    OutputLimit,
    /// <summary>Crashed or exited non-zero.</summary>
    RuntimeError,
    /// <summary>Did not compile (reported for every test).</summary>
    CompileError,
    /// <summary>Forbidden system call.</summary>
    SecurityViolation,
    /// <summary>The sandbox or the problem (e.g. its validator) failed.</summary>
    InternalError,
}

/// <summary>The result of one test, emitted the moment it is known. Never carries hidden data.</summary>
/// <param name="Name">Test name, e.g. <c>sample/1</c> or <c>secret/group1/03</c>.</param>
/// <param name="Sample">True for public samples.</param>
/// <param name="Verdict">The verdict.</param>
/// <param name="TimeMs">CPU time of the run.</param>
/// <param name="MemoryKb">Peak memory of the run.</param>
/// <param name="Detail">For samples only: a short diff or the validator's feedback. Always null for hidden tests.</param>
public sealed record TestResult(string Name, bool Sample, TestVerdict Verdict, long TimeMs, long MemoryKb, string? Detail = null);

/// <summary>Check a program against a problem.</summary>
/// <param name="Language">Language id or alias.</param>
/// <param name="Source">Program text.</param>
/// <param name="Problem">Problem id from the library, or a path to a problem file, package folder or .zip.</param>
/// <param name="StopOnFirstFailure">Stop running tests after the first one that is not accepted.</param>
/// <param name="Limits">Limits the caller asks for; only lower the problem's and the runner's.</param>
public sealed record CheckRequest(string Language, string Source, string Problem, bool StopOnFirstFailure = false, LimitOverrides? Limits = null);

/// <summary>An ad-hoc check: one stdin, one expected stdout, no problem file.</summary>
public sealed record AdHocCheckRequest(string Language, string Source, string Stdin, string ExpectedStdout, ValidatorOptions? Validator = null, LimitOverrides? Limits = null);

/// <summary>The result of a check; the overall verdict is the first failing test's, or accepted.</summary>
public sealed record CheckResult(TestVerdict Verdict, int Passed, int Total, string? CompileOutput, IReadOnlyList<TestResult> Tests);

/// <summary>Options of the default output validator (Kattis / ICPC problem package format).</summary>
public sealed record ValidatorOptions
{
    public bool CaseSensitive { get; init; }
    public bool SpaceChangeSensitive { get; init; }
    public double? FloatAbsoluteTolerance { get; init; }
    public double? FloatRelativeTolerance { get; init; }
}

/// <summary>What the problem list shows (no test data).</summary>
public sealed record ProblemSummary(string Id, string Title, int Samples, int Tests);

/// <summary>A public sample: input and expected output may be shown to users.</summary>
public sealed record ProblemSample(string Name, string Input, string Output);

/// <summary>Public details of a problem: statement, limits and samples only; never hidden tests.</summary>
public sealed record ProblemInfo(
    string Id,
    string Title,
    string StatementMarkdown,
    double TimeLimitSeconds,
    int MemoryLimitMb,
    IReadOnlyList<ProblemSample> Samples,
    int HiddenTests);

/// <summary>The problems this runner offers (built-in library plus any configured folders).</summary>
public interface IProblemLibrary
{
    /// <summary>Lists the library's problems.</summary>
    IReadOnlyList<ProblemSummary> List();

    /// <summary>Public details of one problem by id or path; throws <see cref="ProblemNotFoundException"/> or <see cref="ProblemFormatException"/>.</summary>
    ProblemInfo Describe(string idOrPath);
}

/// <summary>Judges programs against problems.</summary>
public interface IJudge
{
    /// <summary>Compiles once, runs every test on as many slots as are free, reports each test as it completes.</summary>
    Task<CheckResult> CheckAsync(CheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken);

    /// <summary>Runs with one stdin and compares against one expected stdout.</summary>
    Task<CheckResult> CheckAdHocAsync(AdHocCheckRequest request, IProgress<TestResult>? progress, CancellationToken cancellationToken);
}

/// <summary>No problem with that id, and no file or folder at that path.</summary>
public sealed class ProblemNotFoundException(string problem)
    : Exception($"unknown problem '{problem}': not in the library and no such file or folder");

/// <summary>A problem file or package is malformed. The message names the file and the fault.</summary>
public sealed class ProblemFormatException(string file, string fault)
    : Exception($"{file}: {fault}")
{
    /// <summary>The file (or package entry) at fault.</summary>
    public string File { get; } = file;

    /// <summary>What is wrong with it.</summary>
    public string Fault { get; } = fault;
}
