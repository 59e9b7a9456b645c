using System.CommandLine;
using System.Text.Json;
using Sandbox.Cli.Composition;

namespace Sandbox.Cli.Commands;

/// <summary><c>sandbox languages</c>: what this runner offers.</summary>
internal static class LanguagesCommand
{
    public static Command Create()
    {
        var runner = CliOptions.Runner();
        var tokenFile = CliOptions.TokenFile();
        var json = CliOptions.Json();
        var command = new Command("languages", "List the languages this runner offers") { runner, tokenFile, json };
        command.SetAction((parse, cancellationToken) => ErrorMapping.GuardAsync(async () =>
        {
            await using var session = await RunnerSession.OpenAsync(parse.GetValue(runner), parse.GetValue(tokenFile)?.FullName, slots: 1, CliOptions.LogLevelFor(false), logErrors: false, cancellationToken);
            var result = await session.Rpc.LanguagesAsync(cancellationToken);
            if (parse.GetValue(json))
            {
                await Console.Out.WriteLineAsync(JsonSerializer.Serialize(result.Languages.Select(l => new { l.Id, l.Name, l.Aliases, l.Extensions, l.LspLanguageIds }), CliOptions.JsonOutput));
                return 0;
            }

            var idWidth = result.Languages.Select(l => l.Id.Length).Append("ID".Length).Max();
            var nameWidth = result.Languages.Select(l => l.Name.Length).Append("NAME".Length).Max();
            await Console.Out.WriteLineAsync($"{"ID".PadRight(idWidth)}  {"NAME".PadRight(nameWidth)}  EXTENSIONS");
            foreach (var l in result.Languages.OrderBy(l => l.Id, StringComparer.Ordinal))
            {
                await Console.Out.WriteLineAsync($"{l.Id.PadRight(idWidth)}  {l.Name.PadRight(nameWidth)}  {string.Join(' ', l.Extensions)}");
            }

            return 0;
        }));
        return command;
    }
}
