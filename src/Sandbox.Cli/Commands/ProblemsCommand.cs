using System.CommandLine;
using System.Text.Json;
using Sandbox.Cli.Composition;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox problems</c>: the runner's problem library (ids, titles, test counts).</summary>
internal static class ProblemsCommand
{
    public static Command Create()
    {
        var runner = CliOptions.Runner();
        var tokenFile = CliOptions.TokenFile();
        var json = CliOptions.Json();
        var command = new Command("problems", "List the problems this runner offers") { runner, tokenFile, json };
        command.SetAction((parse, cancellationToken) => ErrorMapping.GuardAsync(async () =>
        {
            await using var session = await RunnerSession.OpenAsync(parse.GetValue(runner), parse.GetValue(tokenFile)?.FullName, slots: 1, CliOptions.LogLevelFor(false), logErrors: false, cancellationToken);
            var result = await session.Rpc.ProblemsAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result.Problems, CliOptions.JsonOutput));
                return 0;
            }

            var width = result.Problems.Count == 0 ? 2 : Math.Max(2, result.Problems.Max(p => p.Id.Length));
            await Console.Out.WriteLineAsync($"{"ID".PadRight(width)}  SAMPLES  TESTS  TITLE");
            foreach (var p in result.Problems.OrderBy(p => p.Id, StringComparer.Ordinal))
            {
                // Titles come from problem files: control characters in them could restyle the terminal.
                await Console.Out.WriteLineAsync($"{CliOptions.Printable(p.Id).PadRight(width)}  {p.Samples,7}  {p.Tests,5}  {CliOptions.Printable(p.Title)}");
            }

            return 0;
        }));
        return command;
    }
}
