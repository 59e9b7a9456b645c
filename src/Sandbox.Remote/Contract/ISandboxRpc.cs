using System.Text;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;
using Sandbox.Runner.Languages;

namespace Sandbox.Remote.Contract;

/// <summary>
/// The one seam between front ends (CLI, language server, playground) and a runner: in-process over
/// Sandbox.Runner, or over WebSocket JSON-RPC to a runner host. Method names on the wire are in
/// <see cref="SandboxRpcMethods"/>; records are camelCase JSON, enums kebab-case.
/// </summary>
public interface ISandboxRpc
{
    /// <summary>Compiles and runs a program; output chunks stream through <paramref name="output"/>; the result is the response.</summary>
    Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken);

    /// <summary>Checks a program against a problem (or an ad-hoc stdin/expected pair); each test's result streams through <paramref name="tests"/>.</summary>
    Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken);

    /// <summary>Cancels a run or check started with the given <c>runId</c>, killing it inside the container.</summary>
    Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken);

    /// <summary>The languages this runner offers.</summary>
    Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken);

    /// <summary>The problems this runner offers (metadata only).</summary>
    Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken);

    /// <summary>One problem's statement, limits (as its tests are judged: lowered to the runner's maximum) and public samples (never hidden tests).</summary>
    Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken);
}

/// <summary>JSON-RPC method names; keep in sync with editors/*/protocol.ts.</summary>
public static class SandboxRpcMethods
{
    public const string Run = "run";
    public const string Check = "check";
    public const string Cancel = "cancel";
    public const string Languages = "languages";
    public const string Problems = "problems";
    public const string Problem = "problem";

    /// <summary>Server-to-client notification: one chunk of a run's output (<see cref="OutputNotification"/>).</summary>
    public const string Output = "output";

    /// <summary>Server-to-client notification: one test of a check is done (<see cref="TestResultNotification"/>).</summary>
    public const string TestResult = "testResult";

    /// <summary>Maps a CLR method name (<c>RunAsync</c>) to its wire name (<c>run</c>): drop <c>Async</c>, lower the first letter.</summary>
    public static string FromClrName(string clrName)
    {
        ArgumentException.ThrowIfNullOrEmpty(clrName);
        var name = clrName.EndsWith("Async", StringComparison.Ordinal) ? clrName[..^5] : clrName;
        return name.Length == 0 ? name : char.ToLowerInvariant(name[0]) + name[1..];
    }
}

/// <summary>Parameters of <see cref="ISandboxRpc.RunAsync"/>.</summary>
/// <param name="Language">Language id or alias.</param>
/// <param name="Source">Program text.</param>
/// <param name="Stdin">Standard input as text (the program reads its UTF-8).</param>
/// <param name="Limits">Limits that lower the runner's maximum.</param>
/// <param name="RunId">Client-chosen id so <see cref="ISandboxRpc.CancelAsync"/> can name this run; one is made when null.</param>
/// <param name="StdinBytes">
/// Standard input as bytes, any bytes at all, instead of <paramref name="Stdin"/> (giving both is refused). On the wire:
/// <c>stdinBase64</c>, standard base64; a runner host older than this field ignores it.
/// </param>
public sealed record RunParams(
    string Language,
    string Source,
    string? Stdin = null,
    LimitOverrides? Limits = null,
    string? RunId = null,
    [property: JsonPropertyName("stdinBase64")] ReadOnlyMemory<byte>? StdinBytes = null);

/// <summary>Parameters of <see cref="ISandboxRpc.CheckAsync"/>: either <paramref name="Problem"/>, or an ad-hoc <paramref name="Stdin"/> with <paramref name="ExpectedStdout"/>.</summary>
public sealed record CheckParams(
    string Language,
    string Source,
    string? Problem = null,
    bool StopOnFirstFailure = false,
    LimitOverrides? Limits = null,
    string? RunId = null,
    string? Stdin = null,
    string? ExpectedStdout = null,
    ValidatorOptions? Validator = null);

/// <summary>A chunk of output from a run.</summary>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c> or <c>compile</c>.</param>
/// <param name="Text">The text: the stream's bytes decoded as UTF-8 in order (an invalid byte shows as U+FFFD).</param>
/// <param name="Bytes">
/// Exactly the bytes of this chunk, only when they are not the UTF-8 of <paramref name="Text"/> (output that is not UTF-8,
/// or a character split between chunks); null when they are, which is the common case and costs nothing. Use
/// <see cref="GetBytes"/>. On the wire (the <c>output</c> notification): <c>base64</c>.
/// </param>
public sealed record OutputEvent(OutputStreamKind Stream, string Text, [property: JsonPropertyName("base64")] ReadOnlyMemory<byte>? Bytes = null)
{
    /// <summary>The chunk of the engine as an event: its bytes are carried only when its text does not already say them.</summary>
    public static OutputEvent From(OutputChunk chunk) =>
        new(chunk.Stream, chunk.Text, IsUtf8Of(chunk.Bytes.Span, chunk.Text) ? (ReadOnlyMemory<byte>?)null : chunk.Bytes);

    /// <summary>Exactly the bytes of this chunk.</summary>
    public ReadOnlyMemory<byte> GetBytes() => Bytes ?? Encoding.UTF8.GetBytes(Text);

    /// <summary>
    /// Whether <paramref name="bytes"/> are exactly the UTF-8 of <paramref name="text"/>, for a chunk whose text was
    /// decoded from them: valid UTF-8 decodes to itself unless the decoder still held an incomplete character from the
    /// chunk before (then its text starts with a U+FFFD the bytes lack, and the lengths differ).
    /// </summary>
    private static bool IsUtf8Of(ReadOnlySpan<byte> bytes, string text) =>
        Utf8.IsValid(bytes) && Encoding.UTF8.GetByteCount(text) == bytes.Length;
}

/// <summary>Parameters of <see cref="ISandboxRpc.CancelAsync"/>.</summary>
public sealed record CancelParams(string RunId);

/// <summary>Whether a run with that id was found and killed.</summary>
public sealed record CancelResult(bool Cancelled);

/// <summary>Parameters of <see cref="ISandboxRpc.ProblemAsync"/>.</summary>
public sealed record ProblemParams(string Id);

/// <summary>A language as front ends see it.</summary>
/// <param name="Id">Stable id (<c>python</c>, <c>cpp</c>, ...).</param>
/// <param name="Name">Human name with version.</param>
/// <param name="Aliases">Other accepted names for <paramref name="Id"/>.</param>
/// <param name="Extensions">File extensions with the dot (<c>.py</c>).</param>
/// <param name="LspLanguageIds">LSP <c>languageId</c>s that map to this language.</param>
/// <param name="LineComment">Line comment prefix, used to find a <c>sandbox: problem=ID</c> declaration.</param>
/// <param name="Starter">Starter code for a new file.</param>
/// <param name="SourceFile">File name the source is written to in the sandbox (e.g. <c>main.py</c>); diagnostics that name another file are not the user's.</param>
/// <param name="Diagnostics">The catalog's patterns that turn compile output and stack traces into diagnostics (the language server matches them itself).</param>
public sealed record LanguageInfo(
    string Id,
    string Name,
    IReadOnlyList<string> Aliases,
    IReadOnlyList<string> Extensions,
    IReadOnlyList<string> LspLanguageIds,
    string LineComment,
    string? Starter,
    string? SourceFile = null,
    IReadOnlyList<DiagnosticPattern>? Diagnostics = null);

/// <summary>Response of <see cref="ISandboxRpc.LanguagesAsync"/>.</summary>
public sealed record LanguagesResult(IReadOnlyList<LanguageInfo> Languages);

/// <summary>Response of <see cref="ISandboxRpc.ProblemsAsync"/>.</summary>
public sealed record ProblemsResult(IReadOnlyList<ProblemSummary> Problems);

/// <summary>
/// Optionally implemented by the <see cref="IProgress{T}"/> passed to <see cref="ISandboxRpc.RunAsync"/> or
/// <see cref="ISandboxRpc.CheckAsync"/>: told each time a runner host starts the run. A runner behind a shared work
/// queue can start a run again on another host when the first one died mid-run; everything reported before such a
/// restart is void, and the output starts over.
/// </summary>
public interface IRunAttemptObserver
{
    /// <summary>A host started the run; <see cref="RunAttempt.Number"/> above 1 means it started over.</summary>
    void AttemptStarted(RunAttempt attempt);
}

/// <summary>One start of a run on a runner host.</summary>
/// <param name="Number">1 for the first start; 2 and up when the run started over after its host went away.</param>
/// <param name="Host">The runner host's id (its <c>--host-id</c>, by default the machine name and process id).</param>
public sealed record RunAttempt(int Number, string Host)
{
    /// <summary>True when the run started over and earlier output is void.</summary>
    public bool IsRestart => Number > 1;
}
