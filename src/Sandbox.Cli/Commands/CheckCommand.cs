using System.CommandLine;
using System.Text.Json;
using Sandbox.Cli.Composition;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Judging;
using Spectre.Console;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox check FILE --problem ID|PATH</c>: judges a program against a problem's tests, live.</summary>
internal static class CheckCommand
{
    /// <summary>The JSON printed by <c>check --json</c> (ARCHITECTURE.md).</summary>
    internal sealed record CheckJson(TestVerdict Verdict, int Passed, int Total, string? CompileOutput, IReadOnlyList<TestJson> Tests);

    internal sealed record TestJson(string Name, bool Sample, TestVerdict Verdict, long TimeMs, long MemoryKb);

    public static Command Create()
    {
        var file = CliOptions.SourceFile("The program to check");
        var problem = new Option<string>("--problem", "-p")
        {
            Description = "Problem id (see `sandbox problems`), or a problem file, package folder or .zip; a plain name the library has is its id, even if a file of that name is here",
            Required = true,
        };
        var language = new Option<string?>("--language", "-l") { Description = "Language id (default: from the file extension)" };
        var stopOnFailure = new Option<bool>("--stop-on-failure") { Description = "Stop at the first test that is not accepted" };
        var runner = CliOptions.Runner();
        var tokenFile = CliOptions.TokenFile();
        var json = CliOptions.Json();
        var verbose = CliOptions.Verbose();
        var command = new Command("check", "Compile FILE once and run it against every test of a problem; exit 0 only when all are accepted")
        {
            file, problem, language, stopOnFailure, runner, tokenFile, json, verbose,
        };

        command.SetAction((parse, cancellationToken) => ErrorMapping.GuardAsync(async () =>
        {
            var path = parse.GetValue(file)!;
            var source = await RunCommand.ReadSourceAsync(path, cancellationToken);
            var problemRef = parse.GetValue(problem)!;
            var runnerUrl = parse.GetValue(runner);
            var verboseLog = parse.GetValue(verbose);
            await using var session = await RunnerSession.OpenAsync(runnerUrl, parse.GetValue(tokenFile)?.FullName, slots: null, CliOptions.LogLevelFor(verboseLog), logErrors: verboseLog, cancellationToken);
            var languageId = await RunCommand.ResolveLanguageAsync(session.Rpc, parse.GetValue(language), path.Name, cancellationToken);
            if (languageId is null)
            {
                CliOptions.Error($"cannot tell the language of {path.Name} from its extension: pass --language (see `sandbox languages`)");
                return CliOptions.UsageExit;
            }

            // A local problem file or package is read by the embedded runner; give it as an absolute path. A plain name the
            // library has stays its id even when a file or folder of that name is here (in problems/: --problem fizzbuzz).
            if (runnerUrl is null && (File.Exists(problemRef) || Directory.Exists(problemRef)) && !await IsLibraryIdAsync(session.Rpc, problemRef, cancellationToken))
            {
                problemRef = Path.GetFullPath(problemRef);
            }

            var info = await session.Rpc.ProblemAsync(new ProblemParams(problemRef), cancellationToken);
            var total = info.Samples.Count + info.HiddenTests;
            await session.StartAsync(Console.Error, cancellationToken);
            var request = new CheckParams(languageId, source, problemRef, parse.GetValue(stopOnFailure));
            CheckResult result;
            if (parse.GetValue(json))
            {
                result = await session.Rpc.CheckAsync(request, null, cancellationToken);
                if (result.Verdict != TestVerdict.InternalError)
                {
                    var output = new CheckJson(result.Verdict, result.Passed, result.Total, result.CompileOutput, [.. result.Tests.Select(t => new TestJson(t.Name, t.Sample, t.Verdict, t.TimeMs, t.MemoryKb))]);
                    await Console.Out.WriteLineAsync(JsonSerializer.Serialize(output, CliOptions.JsonOutput));
                }
            }
            else
            {
                result = await ShowLiveAsync(session.Rpc, request, info, total, cancellationToken);
            }

            if (result.Verdict == TestVerdict.InternalError)
            {
                // The problem (its validator) or the sandbox failed, not the program: a sandbox failure, not a verdict.
                CliOptions.Error(InternalErrorMessage(result, logHidden: runnerUrl is null && !verboseLog));
                return CliOptions.InternalExit;
            }

            return result.Verdict == TestVerdict.Accepted ? 0 : 1;
        }, logHidden: parse.GetValue(runner) is null && !parse.GetValue(verbose)));
        return command;
    }

    /// <summary>
    /// Whether <paramref name="problem"/> is an id of the runner's library: a plain name (no folder, no problem file or zip
    /// ending) that the library lists. Asked only when a file or folder of that name exists too.
    /// </summary>
    private static async Task<bool> IsLibraryIdAsync(ISandboxRpc rpc, string problem, CancellationToken cancellationToken)
    {
        if (problem.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || problem.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal)
            || Path.GetExtension(problem).ToLowerInvariant() is ".yaml" or ".yml" or ".zip")
        {
            return false;
        }

        var library = await rpc.ProblemsAsync(cancellationToken);
        return library.Problems.Any(p => p.Id == problem);
    }

    /// <summary>
    /// The one line for a check whose verdict is internal-error. A sample's detail says what failed (the problem's validator
    /// cannot be built, or failed); a hidden test carries none.
    /// </summary>
    internal static string InternalErrorMessage(CheckResult result, bool logHidden)
    {
        var test = result.Tests.FirstOrDefault(t => t.Verdict == TestVerdict.InternalError);
        var what = test?.Detail ?? "the problem's validator or the sandbox failed";
        var where = test is null ? "" : $" on test {CliOptions.Printable(test.Name)}";
        return $"internal error{where}: {CliOptions.Printable(what)}; not your program's fault{(logHidden ? " (--verbose shows the runner's log)" : "")}";
    }

    private static async Task<CheckResult> ShowLiveAsync(ISandboxRpc rpc, CheckParams request, ProblemInfo info, int total, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        // Titles, ids and test names come from problem files: control characters in them could restyle the terminal.
        console.MarkupLine($"[bold]{Markup.Escape(CliOptions.Printable(info.Title))}[/] ({Markup.Escape(CliOptions.Printable(info.Id))}): {total} tests, {info.TimeLimitSeconds:0.###} s, {info.MemoryLimitMb} MB");
        var table = new Table().Border(TableBorder.Rounded).AddColumns("Test", "Verdict", "Time", "Memory");
        var done = 0;
        var gate = new Lock();
        CheckResult? result = null;
        var interactive = console.Profile.Capabilities.Interactive && !Console.IsOutputRedirected;
        if (interactive)
        {
            await console.Live(table).StartAsync(async ctx =>
            {
                var progress = new SyncProgress<TestResult>(t =>
                {
                    lock (gate)
                    {
                        done++;
                        AddRow(table, t);
                        table.Caption(Bar(done, total));
                        ctx.Refresh();
                    }
                },
                attempt =>
                {
                    lock (gate)
                    {
                        // The host running the check went away; another host runs every test again.
                        done = 0;
                        table.Rows.Clear();
                        table.Caption($"{Bar(0, total)} (started over on {Markup.Escape(attempt.Host)})");
                        ctx.Refresh();
                    }
                });
                table.Caption(Bar(0, total));
                ctx.Refresh();
                result = await rpc.CheckAsync(request, progress, cancellationToken);
                table.Caption(Bar(result.Tests.Count, Math.Max(total, result.Tests.Count)));
                ctx.Refresh();
            });
        }
        else
        {
            // Not a terminal: one line per test as it lands, with a running count.
            var progress = new SyncProgress<TestResult>(t =>
            {
                lock (gate)
                {
                    done++;
                    Console.Out.WriteLine($"[{done}/{total}] {CliOptions.Printable(t.Name),-24} {Verdicts.Name(t.Verdict),-18} {t.TimeMs,6} ms {t.MemoryKb / 1024.0,7:0.0} MB");
                }
            },
            attempt =>
            {
                lock (gate)
                {
                    done = 0;
                    CliOptions.Error($"the runner host went away; the check started over on {attempt.Host} (the tests above are void)");
                }
            });
            result = await rpc.CheckAsync(request, progress, cancellationToken);
        }

        if (result!.Verdict == TestVerdict.InternalError)
        {
            // No verdict to explain or sum up: the caller says in one line on stderr what failed.
            return result;
        }

        if (!string.IsNullOrWhiteSpace(result.CompileOutput) && result.Verdict == TestVerdict.CompileError)
        {
            await Console.Error.WriteLineAsync(result.CompileOutput);
        }

        foreach (var failedSample in result.Tests.Where(t => t.Sample && t.Detail is not null && t.Verdict != TestVerdict.Accepted))
        {
            // The detail quotes the program's output (a diff): its lines stay, other control characters do not.
            await Console.Out.WriteLineAsync($"{CliOptions.Printable(failedSample.Name)}: {CliOptions.Printable(failedSample.Detail!, keepLines: true)}");
        }

        var colour = result.Verdict == TestVerdict.Accepted ? "green" : "red";
        console.MarkupLine($"[{colour} bold]{Verdicts.Name(result.Verdict)}[/]: {result.Passed}/{result.Total} tests passed");
        return result;
    }

    private static void AddRow(Table table, TestResult t)
    {
        var colour = t.Verdict == TestVerdict.Accepted ? "green" : "red";
        table.AddRow(
            Markup.Escape(CliOptions.Printable(t.Name) + (t.Sample ? " (sample)" : "")),
            $"[{colour}]{Verdicts.Name(t.Verdict)}[/]",
            $"{t.TimeMs} ms",
            $"{t.MemoryKb / 1024.0:0.0} MB");
    }

    /// <summary>The progress bar caption, as markup: its brackets are escaped (Spectre would read "[░░░]" as a style and throw).</summary>
    private static string Bar(int done, int total)
    {
        const int width = 30;
        var filled = total == 0 ? width : Math.Min(width, done * width / total);
        return Markup.Escape($"[{new string('█', filled)}{new string('░', width - filled)}] {done}/{total}");
    }

    /// <summary>Reports on the calling thread; told when a queue runner started the check over on another host.</summary>
    private sealed class SyncProgress<T>(Action<T> report, Action<RunAttempt>? restarted = null) : IProgress<T>, IRunAttemptObserver
    {
        public void Report(T value) => report(value);

        public void AttemptStarted(RunAttempt attempt)
        {
            if (attempt.IsRestart)
            {
                restarted?.Invoke(attempt);
            }
        }
    }
}
