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
        var problem = new Option<string>("--problem", "-p") { Description = "Problem id (see `sandbox problems`), or a problem file, package folder or .zip", Required = true };
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
            // A local problem file or package is read by the embedded runner; give it as an absolute path.
            if (runnerUrl is null && (File.Exists(problemRef) || Directory.Exists(problemRef)))
            {
                problemRef = Path.GetFullPath(problemRef);
            }

            await using var session = await RunnerSession.OpenAsync(runnerUrl, parse.GetValue(tokenFile)?.FullName, slots: null, CliOptions.LogLevelFor(parse.GetValue(verbose)), cancellationToken);
            var languageId = parse.GetValue(language) ?? await RunCommand.DetectLanguageAsync(session.Rpc, path.Name, cancellationToken);
            if (languageId is null)
            {
                CliOptions.Error($"cannot tell the language of {path.Name} from its extension: pass --language (see `sandbox languages`)");
                return CliOptions.UsageExit;
            }

            var info = await session.Rpc.ProblemAsync(new ProblemParams(problemRef), cancellationToken);
            var total = info.Samples.Count + info.HiddenTests;
            await session.StartAsync(Console.Error, cancellationToken);
            var request = new CheckParams(languageId, source, problemRef, parse.GetValue(stopOnFailure));
            CheckResult result;
            if (parse.GetValue(json))
            {
                result = await session.Rpc.CheckAsync(request, null, cancellationToken);
                var output = new CheckJson(result.Verdict, result.Passed, result.Total, result.CompileOutput, [.. result.Tests.Select(t => new TestJson(t.Name, t.Sample, t.Verdict, t.TimeMs, t.MemoryKb))]);
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(output, CliOptions.JsonOutput));
            }
            else
            {
                result = await ShowLiveAsync(session.Rpc, request, info, total, cancellationToken);
            }

            return result.Verdict == TestVerdict.Accepted ? 0 : 1;
        }));
        return command;
    }

    private static async Task<CheckResult> ShowLiveAsync(ISandboxRpc rpc, CheckParams request, ProblemInfo info, int total, CancellationToken cancellationToken)
    {
        var console = AnsiConsole.Console;
        console.MarkupLine($"[bold]{Markup.Escape(info.Title)}[/] ({Markup.Escape(info.Id)}): {total} tests, {info.TimeLimitSeconds:0.###} s, {info.MemoryLimitMb} MB");
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
                    Console.Out.WriteLine($"[{done}/{total}] {t.Name,-24} {Verdicts.Name(t.Verdict),-18} {t.TimeMs,6} ms {t.MemoryKb / 1024.0,7:0.0} MB");
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

        if (!string.IsNullOrWhiteSpace(result!.CompileOutput) && result.Verdict == TestVerdict.CompileError)
        {
            await Console.Error.WriteLineAsync(result.CompileOutput);
        }

        foreach (var failedSample in result.Tests.Where(t => t.Sample && t.Detail is not null && t.Verdict != TestVerdict.Accepted))
        {
            await Console.Out.WriteLineAsync($"{failedSample.Name}: {failedSample.Detail}");
        }

        var colour = result.Verdict == TestVerdict.Accepted ? "green" : "red";
        console.MarkupLine($"[{colour} bold]{Verdicts.Name(result.Verdict)}[/]: {result.Passed}/{result.Total} tests passed");
        return result;
    }

    private static void AddRow(Table table, TestResult t)
    {
        var colour = t.Verdict == TestVerdict.Accepted ? "green" : "red";
        table.AddRow(
            Markup.Escape(t.Name + (t.Sample ? " (sample)" : "")),
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
