using System.Text.Json;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox languages</c>, <c>sandbox problems</c>, help and top-level usage errors, through the real executable.</summary>
[Collection(CliCollection.Name)]
public sealed class ListingCommandProcessTests
{
    [Fact]
    public async Task Languages_ListsTheCatalogAsATable()
    {
        var result = await Cli.RunAsync("languages");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+NAME\s+EXTENSIONS$", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("python ", StringComparison.Ordinal) && l.EndsWith(".py", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("c ", StringComparison.Ordinal) && l.Contains(".c", StringComparison.Ordinal));
        // Columns line up: every row's extensions start where the header's EXTENSIONS does.
        var column = lines[0].IndexOf("EXTENSIONS", StringComparison.Ordinal);
        Assert.All(lines.Skip(1), l => Assert.Equal('.', l[column]));
    }

    [Fact]
    public async Task Languages_Json_IsOneArrayOfLanguages()
    {
        var result = await Cli.RunAsync("languages", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var languages = json.RootElement.EnumerateArray().ToList();
        var python = Assert.Single(languages, l => l.GetProperty("id").GetString() == "python");
        Assert.Contains(".py", python.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
        Assert.All(languages, l => Assert.False(string.IsNullOrEmpty(l.GetProperty("name").GetString())));
        Assert.Contains(languages, l => l.GetProperty("id").GetString() == "c");
    }

    [Fact]
    public async Task Problems_ListsTheLibrary()
    {
        var result = await Cli.RunAsync("problems");

        Assert.True(result.ExitCode == 0, result.ToString());
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^ID\s+SAMPLES\s+TESTS\s+TITLE$", lines[0]);
        Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^fizzbuzz\s+2\s+20\s+FizzBuzz$"));
        Assert.Contains(lines, l => l.StartsWith("twosum ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Problems_Json_IsOneArrayWithIdsTitlesAndCounts()
    {
        var result = await Cli.RunAsync("problems", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = JsonDocument.Parse(result.Stdout);
        var fizzbuzz = Assert.Single(json.RootElement.EnumerateArray(), p => p.GetProperty("id").GetString() == "fizzbuzz");
        Assert.Equal("FizzBuzz", fizzbuzz.GetProperty("title").GetString());
        Assert.Equal(2, fizzbuzz.GetProperty("samples").GetInt32());
        Assert.Equal(20, fizzbuzz.GetProperty("tests").GetInt32());
    }

    [Fact]
    public async Task Help_ListsEveryCommand()
    {
        var result = await Cli.RunAsync("--help");

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var command in new[] { "run", "check", "host", "lsp", "serve", "languages", "problems" })
        {
            Assert.Matches($@"(?m)^\s+{command}\b", result.Stdout);
        }
    }

    [Fact]
    public async Task NoCommand_IsAUsageError()
    {
        var result = await Cli.RunAsync([]);

        RunCommandProcessTests.AssertUsageError(result, "Required command was not provided");
    }

    [Fact]
    public async Task UnknownCommand_IsAUsageErrorNamingIt()
    {
        var result = await Cli.RunAsync("frobnicate");

        RunCommandProcessTests.AssertUsageError(result, "'frobnicate'");
        Assert.Contains("sandbox --help", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Languages_FromAnUnreachableRunner_IsAnInternalError()
    {
        var result = await Cli.RunAsync("languages", "--runner", "ws://127.0.0.1:1/rpc");

        Assert.True(result.ExitCode == 70, result.ToString());
        Assert.Single(result.StderrLines);
    }
}
