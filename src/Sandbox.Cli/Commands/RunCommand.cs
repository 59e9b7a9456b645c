using System.Buffers;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Unicode;
using Sandbox.Cli.Composition;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox run FILE</c>: runs a file in the sandbox, streaming its output; exits with the program's code.</summary>
internal static class RunCommand
{
    /// <summary>
    /// Strict UTF-8: an invalid byte throws instead of becoming U+FFFD, and a byte order mark stays (as U+FEFF) instead of
    /// being dropped, so the program gets exactly the bytes of the file.
    /// </summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The JSON printed by <c>run --json</c> (ARCHITECTURE.md). <see cref="StdoutBase64"/> and <see cref="StderrBase64"/>
    /// are there only when the program's bytes on that stream are not valid UTF-8: then its text shows U+FFFD for them,
    /// and the base64 holds the exact bytes.
    /// </summary>
    internal sealed record RunJson(
        RunVerdict Verdict,
        int? ExitCode,
        int? Signal,
        string Stdout,
        string Stderr,
        string? CompileOutput,
        long CpuTimeMs,
        long WallTimeMs,
        long MemoryKb,
        bool OutputTruncated)
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? StdoutBase64 { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? StderrBase64 { get; init; }

        public static RunJson From(RunResult result) =>
            new(result.Verdict, result.ExitCode, result.Signal, result.Stdout, result.Stderr, result.CompileOutput, result.CpuTimeMs, result.WallTimeMs, result.MemoryKb, result.OutputTruncated)
            {
                StdoutBase64 = Base64UnlessUtf8(result.GetStdoutBytes().Span),
                StderrBase64 = Base64UnlessUtf8(result.GetStderrBytes().Span),
            };

        private static string? Base64UnlessUtf8(ReadOnlySpan<byte> bytes) => Utf8.IsValid(bytes) ? null : Convert.ToBase64String(bytes);
    }

    public static Command Create()
    {
        var file = CliOptions.SourceFile("The program to run");
        var language = new Option<string?>("--language", "-l") { Description = "Language id (default: from the file extension; see `sandbox languages`)" };
        var stdin = new Option<string?>("--stdin") { Description = "File to use as standard input, or - for this terminal's stdin" };
        // Numbers too large to send are above every runner's maximum: said in the runner's words (a smaller one is checked there).
        var timeLimit = CliOptions.Seconds("--time-limit", "CPU time limit in seconds (may only lower the runner's maximum)", text => $"time limit {text}s is above this runner's maximum");
        var memoryLimit = CliOptions.Megabytes("--memory-limit", "Memory limit in MB (may only lower the runner's maximum)", text => $"memory limit {text} MB is above this runner's maximum");
        var runner = CliOptions.Runner();
        var tokenFile = CliOptions.TokenFile();
        var json = CliOptions.Json();
        var verbose = CliOptions.Verbose();
        var command = new Command("run", "Run FILE in the sandbox; its output streams live and the exit code is the program's")
        {
            file, language, stdin, timeLimit, memoryLimit, runner, tokenFile, json, verbose,
        };

        command.SetAction((parse, cancellationToken) => ErrorMapping.GuardAsync(async () =>
        {
            var path = parse.GetValue(file)!;
            var source = await ReadSourceAsync(path, cancellationToken);
            var input = await ReadStdinAsync(parse.GetValue(stdin), cancellationToken);
            var limits = new LimitOverrides(parse.GetValue(timeLimit), parse.GetValue(memoryLimit));

            var asJson = parse.GetValue(json);
            await using var session = await RunnerSession.OpenAsync(parse.GetValue(runner), parse.GetValue(tokenFile)?.FullName, slots: 1, CliOptions.LogLevelFor(parse.GetValue(verbose)), logErrors: parse.GetValue(verbose), cancellationToken);
            var languageId = await ResolveLanguageAsync(session.Rpc, parse.GetValue(language), path.Name, cancellationToken);
            if (languageId is null)
            {
                CliOptions.Error($"cannot tell the language of {path.Name} from its extension: pass --language (see `sandbox languages`)");
                return CliOptions.UsageExit;
            }

            await session.StartAsync(Console.Error, cancellationToken);
            var streamed = asJson ? null : new ConsoleOutput();
            // Input that is UTF-8 travels as text, which every runner host reads; other bytes need one that reads stdinBase64.
            var request = input is null || Utf8.IsValid(input)
                ? new RunParams(languageId, source, input is null ? null : StrictUtf8.GetString(input), limits)
                : new RunParams(languageId, source, Limits: limits, StdinBytes: input);
            var result = await session.Rpc.RunAsync(request, streamed, cancellationToken);
            if (result.Verdict == RunVerdict.InternalError)
            {
                CliOptions.Error($"internal error: {result.InternalMessage ?? "the sandbox failed"}");
                return CliOptions.InternalExit;
            }

            if (asJson)
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(RunJson.From(result), CliOptions.JsonOutput));
            }
            else if (result.Verdict != RunVerdict.Ok)
            {
                await Console.Out.FlushAsync(cancellationToken);
                if (streamed!.EndsMidLine)
                {
                    // Output without a final newline ("abc"): start the verdict on a line of its own in the terminal.
                    await Console.Error.WriteLineAsync();
                }

                CliOptions.Error($"{Verdicts.Name(result.Verdict)} (exit {(result.ExitCode?.ToString() ?? "-")}{(result.Signal is { } s ? $", signal {s}" : "")}, cpu {result.CpuTimeMs} ms, wall {result.WallTimeMs} ms, {result.MemoryKb} KB{(result.OutputTruncated ? ", output truncated" : "")})");
            }

            return ExitCodeOf(result);
        }, logHidden: parse.GetValue(runner) is null && !parse.GetValue(verbose)));
        return command;
    }

    /// <summary>The program's exit code; 128+signal when a signal ended it; 1 for a compile error.</summary>
    internal static int ExitCodeOf(RunResult result) => result.Verdict switch
    {
        RunVerdict.Ok => 0,
        RunVerdict.CompileError => 1,
        RunVerdict.InternalError => CliOptions.InternalExit,
        _ when result.Signal is { } signal => 128 + signal,
        RunVerdict.TimeLimit => 124,
        _ => result.ExitCode is { } code and not 0 ? code : 1,
    };

    internal static async Task<string> ReadSourceAsync(FileInfo path, CancellationToken cancellationToken)
    {
        if (!path.Exists)
        {
            throw new FileNotFoundException(Directory.Exists(path.FullName) ? $"{path.FullName} is a folder; give a source file" : $"{path.FullName}: no such file");
        }

        if (path.Length > 1024 * 1024)
        {
            throw new SandboxUsageException($"{path.Name} is {path.Length / 1024} KB; source files are limited to 1 MB");
        }

        return DecodeUtf8(await File.ReadAllBytesAsync(path.FullName, cancellationToken), path.Name);
    }

    /// <summary>The bytes of <c>--stdin FILE|-</c>, whatever they are (the program gets them exactly); null without the option.</summary>
    internal static async Task<byte[]?> ReadStdinAsync(string? stdin, CancellationToken cancellationToken)
    {
        if (stdin is null)
        {
            return null;
        }

        if (stdin == "-")
        {
            // The raw bytes, not Console.In: a text reader would replace invalid bytes and drop a byte order mark.
            await using var input = Console.OpenStandardInput();
            using var bytes = new MemoryStream();
            await input.CopyToAsync(bytes, cancellationToken);
            return bytes.ToArray();
        }

        if (!File.Exists(stdin))
        {
            throw new FileNotFoundException(Directory.Exists(stdin) ? $"--stdin {stdin} is a folder; give a file, or - for this terminal's stdin" : $"--stdin {stdin}: no such file");
        }

        return await File.ReadAllBytesAsync(stdin, cancellationToken);
    }

    /// <summary>
    /// The text of <paramref name="bytes"/>, which must be UTF-8: a program's source travels to the runner as text, so
    /// other bytes could only arrive changed. Refused as a usage error naming <paramref name="name"/> and the first bad byte.
    /// </summary>
    internal static string DecodeUtf8(ReadOnlySpan<byte> bytes, string name)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new SandboxUsageException(
                $"{name} is not UTF-8 text (invalid byte at offset {FirstInvalidByte(bytes)}); the sandbox takes source code as UTF-8");
        }
    }

    /// <summary>The offset of the first byte that does not belong to valid UTF-8 (a sequence cut short at the end counts).</summary>
    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        Span<char> scratch = stackalloc char[1024];
        var offset = 0;
        while (true)
        {
            var status = Utf8.ToUtf16(bytes[offset..], scratch, out var read, out _, replaceInvalidSequences: false, isFinalBlock: true);
            offset += read;
            if (status != OperationStatus.DestinationTooSmall)
            {
                return offset;
            }
        }
    }

    /// <summary>
    /// The id of the language to run <paramref name="fileName"/> as: <paramref name="requested"/> (an id or alias, checked
    /// against the runner's list here, before anything is printed or started), else the one its extension names; null
    /// when there is no <paramref name="requested"/> and the extension names none.
    /// </summary>
    internal static async Task<string?> ResolveLanguageAsync(ISandboxRpc rpc, string? requested, string fileName, CancellationToken cancellationToken)
    {
        var languages = (await rpc.LanguagesAsync(cancellationToken)).Languages;
        if (requested is not null)
        {
            var name = requested.Trim();
            return languages.FirstOrDefault(l => string.Equals(l.Id, name, StringComparison.OrdinalIgnoreCase) || l.Aliases.Contains(name, StringComparer.OrdinalIgnoreCase))?.Id
                ?? throw new SandboxUsageException($"unknown language '{requested}'; this runner offers: {string.Join(", ", languages.Select(l => l.Id))}");
        }

        var extension = Path.GetExtension(fileName);
        return string.IsNullOrEmpty(extension)
            ? null
            : languages.FirstOrDefault(l => l.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))?.Id;
    }

    /// <summary>
    /// Writes chunks the moment they arrive, byte for byte as the program wrote them: stdout to stdout, stderr and compiler
    /// output to stderr (raw streams, no text encoding in between). When a queue runner starts the run over on another
    /// host, says so on stderr: the output starts over.
    /// </summary>
    private sealed class ConsoleOutput : IProgress<OutputEvent>, IRunAttemptObserver
    {
        private readonly Stream _stdout = Console.OpenStandardOutput();
        private readonly Stream _stderr = Console.OpenStandardError();

        /// <summary>Whether the last bytes written (to either stream) did not end a line.</summary>
        public bool EndsMidLine { get; private set; }

        public void Report(OutputEvent value)
        {
            var target = value.Stream == OutputStreamKind.Stdout ? _stdout : _stderr;
            var bytes = value.GetBytes().Span;
            lock (this)
            {
                target.Write(bytes);
                target.Flush();
                if (bytes.Length > 0)
                {
                    EndsMidLine = bytes[^1] != (byte)'\n';
                }
            }
        }

        public void AttemptStarted(RunAttempt attempt)
        {
            if (!attempt.IsRestart)
            {
                return;
            }

            var notice = Encoding.UTF8.GetBytes($"\nsandbox: the runner host went away; the run started over on {attempt.Host} (its output starts again below)\n");
            lock (this)
            {
                _stdout.Flush();
                _stderr.Write(notice);
                _stderr.Flush();
            }
        }
    }
}

/// <summary>Verdict names as they appear on the wire and in messages.</summary>
internal static class Verdicts
{
    public static string Name<T>(T verdict)
        where T : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(verdict.ToString());
}
