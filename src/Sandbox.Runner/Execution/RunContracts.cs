using System.Text;
using System.Text.Json.Serialization;

namespace Sandbox.Runner.Execution;

/// <summary>Which stream a chunk of program output came from.</summary>
public enum OutputStreamKind
{
    /// <summary>Standard output of the program.</summary>
    Stdout,
    /// <summary>Standard error of the program.</summary>
    Stderr,
    /// <summary>Output of the compiler (stdout and stderr merged).</summary>
    Compile,
}

/// <summary>A piece of output, delivered as soon as the program wrote it.</summary>
/// <param name="Stream">Which stream it came from.</param>
/// <param name="Text">
/// The bytes decoded as UTF-8, continuing the stream's decoding: a character split across two reads appears whole in the
/// later chunk's text, and an invalid byte becomes U+FFFD. May be empty (the bytes end mid-character) or have text
/// without bytes (the stream ended on an incomplete character, which becomes U+FFFD).
/// </param>
/// <param name="Bytes">
/// Exactly the bytes the program wrote since the previous chunk of this stream (within the output limit): the chunks'
/// bytes of one stream, concatenated, are the stream's bytes. Never changed after it is reported.
/// </param>
public readonly record struct OutputChunk(OutputStreamKind Stream, string Text, ReadOnlyMemory<byte> Bytes);

/// <summary>One program to compile and run.</summary>
/// <param name="Language">A language id or alias from the catalog (e.g. <c>python</c>).</param>
/// <param name="Source">The program text.</param>
/// <param name="Stdin">Standard input for the run as text (sent as UTF-8); empty when null.</param>
/// <param name="Limits">Limits the caller asks for; only lower the configured maximum.</param>
/// <param name="StdinBytes">Standard input as bytes, any bytes at all; when set, used instead of <paramref name="Stdin"/>.</param>
public sealed record RunRequest(string Language, string Source, string? Stdin = null, LimitOverrides? Limits = null, ReadOnlyMemory<byte>? StdinBytes = null);

/// <summary>The result of a run. Mirrors the JSON of <c>sandbox run --json</c>.</summary>
public sealed record RunResult
{
    public required RunVerdict Verdict { get; init; }
    public int? ExitCode { get; init; }
    public int? Signal { get; init; }

    /// <summary>Standard output as text: <see cref="StdoutBytes"/> decoded as UTF-8, an invalid byte shown as U+FFFD.</summary>
    public string Stdout { get; init; } = "";

    /// <summary>Standard error as text: <see cref="StderrBytes"/> decoded as UTF-8, an invalid byte shown as U+FFFD.</summary>
    public string Stderr { get; init; } = "";

    /// <summary>
    /// Exactly the bytes the program wrote to standard output (up to the output limit). The engine always sets them; a
    /// result made elsewhere from text alone has them empty while <see cref="Stdout"/> is not (see
    /// <see cref="GetStdoutBytes"/>). Not part of the JSON: the runner host's wire adds base64 when they are not UTF-8.
    /// </summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte> StdoutBytes { get; init; }

    /// <summary>Exactly the bytes the program wrote to standard error (up to the output limit); as <see cref="StdoutBytes"/>.</summary>
    [JsonIgnore]
    public ReadOnlyMemory<byte> StderrBytes { get; init; }
    public string? CompileOutput { get; init; }
    public long CpuTimeMs { get; init; }
    public long WallTimeMs { get; init; }
    public long MemoryKb { get; init; }
    public bool OutputTruncated { get; init; }

    /// <summary>For <see cref="RunVerdict.InternalError"/> only: what went wrong in the sandbox (for logs and the CLI).</summary>
    public string? InternalMessage { get; init; }

    /// <summary>The stdout bytes: <see cref="StdoutBytes"/>, or the UTF-8 of <see cref="Stdout"/> for a result made from text alone.</summary>
    public ReadOnlyMemory<byte> GetStdoutBytes() => BytesOf(StdoutBytes, Stdout);

    /// <summary>The stderr bytes: <see cref="StderrBytes"/>, or the UTF-8 of <see cref="Stderr"/> for a result made from text alone.</summary>
    public ReadOnlyMemory<byte> GetStderrBytes() => BytesOf(StderrBytes, Stderr);

    private static ReadOnlyMemory<byte> BytesOf(ReadOnlyMemory<byte> bytes, string text) =>
        bytes.IsEmpty && text.Length > 0 ? Encoding.UTF8.GetBytes(text) : bytes;
}

/// <summary>A file placed in the run's work directory before the program starts.</summary>
/// <param name="Name">A plain file name (no directories, no <c>..</c>).</param>
/// <param name="Content">The bytes.</param>
/// <param name="Executable">Whether to set the executable bit.</param>
public sealed record SandboxFile(string Name, ReadOnlyMemory<byte> Content, bool Executable = false);

/// <summary>
/// A compiled program: the files its run step needs (sources for interpreted languages,
/// binaries or class files for compiled ones), kept on the host so it can be run on any slot.
/// </summary>
public sealed record CompiledProgram(string LanguageId, IReadOnlyList<SandboxFile> Files);

/// <summary>The outcome of compiling: a program, or the compiler's message.</summary>
public sealed record CompileOutcome(CompiledProgram? Program, RunResult? Failure, string CompileOutput)
{
    /// <summary>True when the program compiled and can run.</summary>
    public bool Succeeded => Program is not null;
}

/// <summary>How to run an already compiled program once (used by judging and validators).</summary>
public sealed record ExecutionRequest
{
    /// <summary>Standard input bytes (a test's input); empty when null.</summary>
    public ReadOnlyMemory<byte>? Stdin { get; init; }

    /// <summary>Extra arguments appended to the language's run command (validators get file names here).</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Extra files placed in the work directory beside the program (validator inputs).</summary>
    public IReadOnlyList<SandboxFile> ExtraFiles { get; init; } = [];

    /// <summary>Empty directories to create in the work directory (e.g. a validator's feedback dir).</summary>
    public IReadOnlyList<string> ExtraDirectories { get; init; } = [];

    /// <summary>Limits the caller asks for; only lower the configured maximum.</summary>
    public LimitOverrides? Limits { get; init; }

    /// <summary>Keep this many bytes of stdout at most in the result (the run is still capped by the output limit).</summary>
    public bool CaptureOutput { get; init; } = true;
}

/// <summary>
/// The engine: compile and run untrusted code in the sandbox. Thread-safe; runs share the slot pool.
/// </summary>
public interface ICodeRunner
{
    /// <summary>Compiles (if the language needs it) and runs one program, streaming its output.</summary>
    Task<RunResult> RunAsync(RunRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken);

    /// <summary>Compiles a program once so it can be run many times (judging).</summary>
    Task<CompileOutcome> CompileAsync(string language, string source, CancellationToken cancellationToken);

    /// <summary>Runs a compiled program on any free slot.</summary>
    Task<RunResult> ExecuteAsync(CompiledProgram program, ExecutionRequest request, IProgress<OutputChunk>? output, CancellationToken cancellationToken);

    /// <summary>Number of runs that can execute at once.</summary>
    int Slots { get; }
}
