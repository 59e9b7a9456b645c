using System.IO.Compression;
using static Sandbox.Cli.Tests.CommandLine.RunCommandProcessTests;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox check</c> against the built-in problems and problem packages, through the real executable.</summary>
[Collection(CliCollection.Name)]
public sealed class CheckCommandProcessTests(CliFixture fixture)
{
    /// <summary>The keys of <c>check --json</c> and of each of its tests, from ARCHITECTURE.md.</summary>
    private static readonly string[] CheckJsonKeys = ["verdict", "passed", "total", "compileOutput", "tests"];
    private static readonly string[] TestJsonKeys = ["name", "sample", "verdict", "timeMs", "memoryKb"];

    private static string FizzBuzz(string kind, string file) => CliPaths.Repo("problems", "fizzbuzz", "submissions", kind, file);

    /// <summary>A program that adds the two numbers of its input: accepted by <see cref="SumPackage"/>.</summary>
    private string SumProgram => fixture.Write("add.py", "a, b = map(int, input().split())\nprint(a + b)\n");

    /// <summary>
    /// Writes a small Kattis package (one sample, one secret test: add two numbers) into the scratch folder and returns
    /// its path. <paramref name="yaml"/> is its problem.yaml; <paramref name="validator"/>, when given, its custom
    /// validator (Python); <paramref name="secretName"/> names the secret test's files.
    /// </summary>
    private string SumPackage(string name, string yaml, string? validator = null, string secretName = "1")
    {
        var root = Path.Combine(fixture.Scratch, name);
        Directory.CreateDirectory(Path.Combine(root, "data", "sample"));
        Directory.CreateDirectory(Path.Combine(root, "data", "secret"));
        File.WriteAllText(Path.Combine(root, "problem.yaml"), yaml);
        File.WriteAllText(Path.Combine(root, "data", "sample", "1.in"), "1 2\n");
        File.WriteAllText(Path.Combine(root, "data", "sample", "1.ans"), "3\n");
        File.WriteAllText(Path.Combine(root, "data", "secret", secretName + ".in"), "2 2\n");
        File.WriteAllText(Path.Combine(root, "data", "secret", secretName + ".ans"), "4\n");
        if (validator is not null)
        {
            Directory.CreateDirectory(Path.Combine(root, "output_validators", "check"));
            File.WriteAllText(Path.Combine(root, "output_validators", "check", "validate.py"), validator);
        }

        return root;
    }

    [Fact]
    public async Task Check_AcceptedSolution_ExitsZeroWithALinePerTestAndTheSummary()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", "fizzbuzz");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("FizzBuzz (fizzbuzz): 20 tests", result.Stdout, StringComparison.Ordinal);
        for (var i = 1; i <= 20; i++)
        {
            Assert.Contains($"[{i}/20] ", result.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("accepted: 20/20 tests passed", result.Stdout, StringComparison.Ordinal);
        // Not a terminal: plain text, no colour codes or live-table redraws.
        Assert.DoesNotContain('\u001b', result.Stdout);
    }

    [Fact]
    public async Task Check_InATerminal_DrawsTheLiveTableWithItsProgressBar()
    {
        // `script` gives the CLI a pseudo-terminal, so it takes the interactive path (Spectre live table and bar);
        // -e hands back the CLI's exit code.
        var command = string.Join(' ', new[] { CliPaths.Executable, "check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", "fizzbuzz" }.Select(a => $"'{a}'"));
        var info = new System.Diagnostics.ProcessStartInfo("script", ["-qec", command, "/dev/null"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            Environment = { ["TERM"] = "xterm-256color", ["COLUMNS"] = "100", ["LINES"] = "40" },
        };
        using var timeout = new CancellationTokenSource(Cli.DefaultTimeout);
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        var text = await output;

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}\n{text}\n{await errors}");
        Assert.DoesNotContain("internal error", text, StringComparison.Ordinal);
        Assert.Contains("secret/18", text, StringComparison.Ordinal);
        Assert.Contains("] 20/20", text, StringComparison.Ordinal);
        Assert.Contains("20/20 tests passed", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_WrongAnswer_ExitsOneAndExplainsOnlyTheSamples()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("wrong_answer", "off_by_one.py"), "--problem", "fizzbuzz");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("wrong-answer: 0/20 tests passed", result.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^sample/small: .*expected", result.Stdout);
        // Hidden tests get a verdict but never an explanation (it could reveal their expected output).
        Assert.DoesNotMatch(@"(?m)^secret/\S+: ", result.Stdout);
    }

    [Fact]
    public async Task Check_Json_PrintsOneObjectWithTheContractShape()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.c"), "--problem", "fizzbuzz", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(CheckJsonKeys.Order(StringComparer.Ordinal), root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("accepted", root.GetProperty("verdict").GetString());
        Assert.Equal(20, root.GetProperty("passed").GetInt32());
        Assert.Equal(20, root.GetProperty("total").GetInt32());
        var tests = root.GetProperty("tests").EnumerateArray().ToList();
        Assert.Equal(20, tests.Count);
        foreach (var test in tests)
        {
            Assert.Equal(TestJsonKeys.Order(StringComparer.Ordinal), test.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
            Assert.Equal("accepted", test.GetProperty("verdict").GetString());
        }

        Assert.Equal(2, tests.Count(t => t.GetProperty("sample").GetBoolean()));
    }

    [Fact]
    public async Task Check_WrongAnswerAsJson_ExitsOneWithWrongAnswerVerdicts()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("wrong_answer", "lowercase.c"), "--problem", "fizzbuzz", "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("wrong-answer", root.GetProperty("verdict").GetString());
        Assert.True(root.GetProperty("passed").GetInt32() < root.GetProperty("total").GetInt32());
        Assert.Contains(root.GetProperty("tests").EnumerateArray(), t => t.GetProperty("verdict").GetString() == "wrong-answer");
    }

    [Fact]
    public async Task Check_CompileError_ExitsOneAndShowsTheCompilerMessage()
    {
        var file = fixture.Write("fizz_broken.c", "int main(void) { return undeclared_name; }\n");

        var result = await Cli.RunAsync("check", file, "--problem", "fizzbuzz");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("undeclared_name", result.CliStderr, StringComparison.Ordinal);
        Assert.Contains("compile-error", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_StopOnFailure_StopsAtTheFirstTimeLimit()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("time_limit_exceeded", "spin.c"), "--problem", "fizzbuzz", "--stop-on-failure", "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("time-limit", root.GetProperty("verdict").GetString());
        Assert.True(root.GetProperty("tests").GetArrayLength() < 20, result.ToString());
    }

    [Fact]
    public async Task Check_KattisPackageFolder_RunsItsCustomValidator()
    {
        // Relative to the working directory (the checkout), as a user types it.
        const string package = "problems/twosum/";
        var submissions = CliPaths.Repo("problems", "twosum", "submissions");

        var accepted = await Cli.RunAsync("check", Path.Combine(submissions, "accepted", "last_pair.py"), "--problem", package, "--json");
        var wrong = await Cli.RunAsync("check", Path.Combine(submissions, "wrong_answer", "same_position.py"), "--problem", package, "--json");

        Assert.True(accepted.ExitCode == 0, accepted.ToString());
        using (var json = ParseSingleObject(accepted.Stdout))
        {
            Assert.Equal("accepted", json.RootElement.GetProperty("verdict").GetString());
            Assert.Equal(7, json.RootElement.GetProperty("total").GetInt32());
        }

        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        using (var json = ParseSingleObject(wrong.Stdout))
        {
            Assert.Equal("wrong-answer", json.RootElement.GetProperty("verdict").GetString());
        }
    }

    [Fact]
    public async Task Check_ZippedKattisPackage_IsJudgedLikeTheFolder()
    {
        var zip = Path.Combine(fixture.Scratch, "bigsum.zip");
        if (!File.Exists(zip))
        {
            await ZipFile.CreateFromDirectoryAsync(CliPaths.Repo("problems", "bigsum"), zip);
        }

        var result = await Cli.RunAsync("check", CliPaths.Repo("problems", "bigsum", "submissions", "accepted", "sum.py"), "--problem", zip, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("accepted", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(10, json.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Check_UnknownProblem_IsAUsageError()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", "no-such-problem");

        AssertUsageError(result, "unknown problem 'no-such-problem'");
    }

    [Fact]
    public async Task Check_FolderThatIsNoPackage_IsAUsageError()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", fixture.Scratch);

        AssertUsageError(result, "no problem.yaml");
    }

    [Fact]
    public async Task Check_WithoutProblem_IsAUsageError()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"));

        AssertUsageError(result, "'--problem' is required");
    }

    [Fact]
    public async Task Check_MissingFile_IsAUsageError()
    {
        var result = await Cli.RunAsync("check", Path.Combine(fixture.Scratch, "gone.py"), "--problem", "fizzbuzz");

        AssertUsageError(result, "gone.py: no such file");
    }

    [Fact]
    public async Task Check_UnknownLanguage_IsAUsageErrorBeforeAnythingIsPrinted()
    {
        // The header used to be printed first, then the usage error.
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", "fizzbuzz", "-l", "nosuch");

        AssertUsageError(result, "unknown language 'nosuch'");
        Assert.Contains("python", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_LanguageAlias_IsAccepted()
    {
        var result = await Cli.RunAsync("check", FizzBuzz("accepted", "fizzbuzz.py"), "--problem", "fizzbuzz", "--language", "PY", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
    }

    [Fact]
    public async Task Check_ProblemIdWhileAFolderOfThatNameIsHere_IsTheLibrarysProblem()
    {
        // In problems/ the folder fizzbuzz/ (only submissions, no problem.yaml) used to take over the id fizzbuzz.
        var result = await Cli.RunAsync(
            ["check", Path.Combine("fizzbuzz", "submissions", "accepted", "fizzbuzz.py"), "--problem", "fizzbuzz", "--json"],
            workingDirectory: CliPaths.Repo("problems"));

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal(20, json.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Check_PlainNameTheLibraryDoesNotHave_IsAPathHere()
    {
        SumPackage("localsum", "name: Local sum\n");

        var result = await Cli.RunAsync(["check", SumProgram, "--problem", "localsum", "--json"], workingDirectory: fixture.Scratch);

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal(2, json.RootElement.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Check_ValidatorThatDoesNotBuild_IsAnInternalErrorInOneLine()
    {
        var package = SumPackage("novalidator", "name: Broken validator\nvalidation: custom\n", validator: "this is not python(\n");

        var result = await Cli.RunAsync("check", SumProgram, "--problem", package);

        // Not "your program failed a test" (exit 1), and no engine log lines (fail: Sandbox.Runner.Judging.Judge[0] ...).
        Assert.True(result.ExitCode == 70, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("sandbox: internal error on test sample/1: the problem's validator cannot be built", line, StringComparison.Ordinal);
        Assert.DoesNotContain("tests passed", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_ValidatorThatCrashes_IsAnInternalErrorWithNothingOnStdoutInJson_AndItsLogWithVerbose()
    {
        var package = SumPackage("crashingvalidator", "name: Crashing validator\nvalidation: custom\n", validator: "import sys\nsys.exit(5)\n");

        var result = await Cli.RunAsync("check", SumProgram, "--problem", package, "--json");
        var verbose = await Cli.RunAsync("check", SumProgram, "--problem", package, "--json", "--verbose");

        Assert.True(result.ExitCode == 70, result.ToString());
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("sandbox: internal error on test sample/1: the problem's validator failed", line, StringComparison.Ordinal);
        Assert.True(verbose.ExitCode == 70, verbose.ToString());
        Assert.Contains("The validator of crashingvalidator failed on test", verbose.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_ControlCharactersInTitleAndTestNames_AreNotPrinted()
    {
        var package = SumPackage("escapes", "name: \"Red\\e[31m title\"\n", secretName: "x\u001b[31mred\u009b1m");

        var result = await Cli.RunAsync("check", SumProgram, "--problem", package);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.DoesNotContain('\u001b', result.Stdout);
        Assert.DoesNotContain('\u009b', result.Stdout);
        Assert.StartsWith("Red?[31m title (escapes): 2 tests", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("secret/x?[31mred?1m", result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_Header_ShowsTheLimitsTheTestsAreJudgedWith()
    {
        // The package asks for 60 s and 2048 MB; the runner's maximum (5 s, 256 MB) is what applies.
        var package = SumPackage("generous", "name: Generous\nlimits:\n  memory: 2048\n");
        await File.WriteAllTextAsync(Path.Combine(package, ".timelimit"), "60\n");

        var result = await Cli.RunAsync("check", SumProgram, "--problem", package);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("Generous (generous): 2 tests, 5 s, 256 MB", result.Stdout, StringComparison.Ordinal);
    }
}
