using System.CommandLine;
using System.Text;
using System.Text.Json;
using Sandbox.Cli.Composition;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox run FILE</c>: runs a file in the sandbox, streaming its output; exits with the program's code.</summary>
internal static class RunCommand
{
    /// <summary>The JSON printed by <c>run --json</c> (ARCHITECTURE.md).</summary>
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
        bool OutputTruncated);

    public static Command Create()
    {
        var file = CliOptions.SourceFile("The program to run");
        var language = new Option<string?>("--language", "-l") { Description = "Language id (default: from the file extension; see `sandbox languages`)" };
        var stdin = new Option<string?>("--stdin") { Description = "File to use as standard input, or - for this terminal's stdin" };
        var timeLimit = CliOptions.Seconds("--time-limit", "CPU time limit in seconds (may only lower the runner's maximum)");
        var memoryLimit = CliOptions.Megabytes("--memory-limit", "Memory limit in MB (may only lower the runner's maximum)");
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
            await using var session = await RunnerSession.OpenAsync(parse.GetValue(runner), parse.GetValue(tokenFile)?.FullName, slots: 1, CliOptions.LogLevelFor(parse.GetValue(verbose)), cancellationToken);
            var languageId = parse.GetValue(language) ?? await DetectLanguageAsync(session.Rpc, path.Name, cancellationToken);
            if (languageId is null)
            {
                CliOptions.Error($"cannot tell the language of {path.Name} from its extension: pass --language (see `sandbox languages`)");
                return CliOptions.UsageExit;
            }

            await session.StartAsync(Console.Error, cancellationToken);
            var streamed = asJson ? null : new ConsoleOutput();
            var result = await session.Rpc.RunAsync(new RunParams(languageId, source, input, limits), streamed, cancellationToken);
            if (result.Verdict == RunVerdict.InternalError)
            {
                CliOptions.Error($"internal error: {result.InternalMessage ?? "the sandbox failed"}");
                return CliOptions.InternalExit;
            }

            if (asJson)
            {
                var output = new RunJson(result.Verdict, result.ExitCode, result.Signal, result.Stdout, result.Stderr, result.CompileOutput, result.CpuTimeMs, result.WallTimeMs, result.MemoryKb, result.OutputTruncated);
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(output, CliOptions.JsonOutput));
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
        }));
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
            throw new Remote.Client.SandboxUsageException($"{path.Name} is {path.Length / 1024} KB; source files are limited to 1 MB");
        }

        return await File.ReadAllTextAsync(path.FullName, cancellationToken);
    }

    internal static async Task<string?> ReadStdinAsync(string? stdin, CancellationToken cancellationToken)
    {
        if (stdin is null)
        {
            return null;
        }

        if (stdin == "-")
        {
            return await Console.In.ReadToEndAsync(cancellationToken);
        }

        if (!File.Exists(stdin))
        {
            throw new FileNotFoundException(Directory.Exists(stdin) ? $"--stdin {stdin} is a folder; give a file, or - for this terminal's stdin" : $"--stdin {stdin}: no such file");
        }

        return await File.ReadAllTextAsync(stdin, cancellationToken);
    }

    internal static async Task<string?> DetectLanguageAsync(ISandboxRpc rpc, string fileName, CancellationToken cancellationToken)
    {
        var extension = Path.GetExtension(fileName);
        if (string.IsNullOrEmpty(extension))
        {
            return null;
        }

        var languages = await rpc.LanguagesAsync(cancellationToken);
        return languages.Languages.FirstOrDefault(l => l.Extensions.Contains(extension, StringComparer.OrdinalIgnoreCase))?.Id;
    }

    /// <summary>
    /// Writes chunks the moment they arrive: stdout to stdout, stderr and compiler output to stderr. When a queue runner
    /// starts the run over on another host, says so on stderr: the output starts over.
    /// </summary>
    private sealed class ConsoleOutput : IProgress<OutputEvent>, IRunAttemptObserver
    {
        private readonly Stream _stdout = Console.OpenStandardOutput();
        private readonly Stream _stderr = Console.OpenStandardError();

        /// <summary>Whether the last text written (to either stream) did not end a line.</summary>
        public bool EndsMidLine { get; private set; }

        public void Report(OutputEvent value)
        {
            var target = value.Stream == OutputStreamKind.Stdout ? _stdout : _stderr;
            var bytes = Encoding.UTF8.GetBytes(value.Text);
            lock (this)
            {
                target.Write(bytes);
                target.Flush();
                if (value.Text.Length > 0)
                {
                    EndsMidLine = value.Text[^1] != '\n';
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
