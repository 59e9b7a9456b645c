using System.Text.Json;

namespace Sandbox.Cli.Tests.CommandLine;

/// <summary><c>sandbox run</c> as a user and a script meet it: the real executable, the embedded runner, real LXC.</summary>
[Collection(CliCollection.Name)]
public sealed class RunCommandProcessTests(CliFixture fixture)
{
    /// <summary>The keys of <c>run --json</c>, from ARCHITECTURE.md.</summary>
    private static readonly string[] RunJsonKeys =
        ["verdict", "exitCode", "signal", "stdout", "stderr", "compileOutput", "cpuTimeMs", "wallTimeMs", "memoryKb", "outputTruncated"];

    private string Hello => CliPaths.Repo("examples", "hello.py");

    [Fact]
    public async Task Run_HelloExample_PrintsItsOutputAndExitsZero()
    {
        var result = await Cli.RunAsync("run", Hello);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Hello, world!\n", result.Stdout);
        Assert.DoesNotContain("sandbox:", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ProgramExitsNonZero_ExitsWithItsCodeAndKeepsStdoutAndStderrApart()
    {
        var file = fixture.Write("exit3.py", "import sys\nprint('to stdout')\nprint('to stderr', file=sys.stderr)\nsys.exit(3)\n");

        var result = await Cli.RunAsync("run", file);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("to stdout\n", result.Stdout);
        Assert.Contains("to stderr", result.CliStderr, StringComparison.Ordinal);
        Assert.Contains("sandbox: runtime-error (exit 3", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_OutputWithoutFinalNewline_IsLeftAsIsAndTheVerdictStartsItsOwnLine()
    {
        var file = fixture.Write("partial.py", "import sys\nsys.stdout.write('no newline')\nsys.exit(5)\n");

        var result = await Cli.RunAsync("run", file);

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Equal("no newline", result.Stdout);
        Assert.StartsWith("\nsandbox: runtime-error (exit 5", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_ProgramKilledBySignal_Exits128PlusTheSignal()
    {
        var file = fixture.Write("abort.py", "import os\nprint('before', flush=True)\nos.abort()\n");

        var result = await Cli.RunAsync("run", file);

        Assert.True(result.ExitCode == 128 + 6, result.ToString()); // SIGABRT
        Assert.Equal("before\n", result.Stdout);
        Assert.Contains("signal 6", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CCompileError_ExitsOneWithTheCompilerMessageOnStderr()
    {
        var file = fixture.Write("broken.c", "int main(void) {\n    return undeclared_name;\n}\n");

        var result = await Cli.RunAsync("run", file);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal("", result.Stdout);
        Assert.Contains("undeclared_name", result.CliStderr, StringComparison.Ordinal);
        Assert.Matches(@"main\.c:2:\d+: error:", result.CliStderr);
        Assert.Contains("sandbox: compile-error", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_CompileErrorAsJson_ReportsCompileErrorWithTheCompilerOutput()
    {
        var file = fixture.Write("broken_json.c", "int main(void) { return undeclared_name; }\n");

        var result = await Cli.RunAsync("run", file, "--json");

        Assert.True(result.ExitCode == 1, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("compile-error", json.RootElement.GetProperty("verdict").GetString());
        Assert.Contains("undeclared_name", json.RootElement.GetProperty("compileOutput").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_InfiniteLoopWithTimeLimit_StopsAtTheLimitAndReportsTimeLimit()
    {
        var file = fixture.Write("spin.py", "while True:\n    pass\n");

        var result = await Cli.RunAsync("run", file, "--time-limit", "1");

        var verdict = Assert.Single(result.StderrLines, l => l.StartsWith("sandbox: time-limit", StringComparison.Ordinal));
        Assert.True(result.ExitCode >= 124, result.ToString());
        // The default CPU limit is 5 s: stopping well before that shows --time-limit 1 was applied.
        var cpu = long.Parse(System.Text.RegularExpressions.Regex.Match(verdict, @"cpu (\d+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(cpu, 1, 2500);
    }

    [Fact]
    public async Task Run_TimeLimitAsJson_ReportsTimeLimitAndTheExitCodeMatchesTheSignal()
    {
        var file = fixture.Write("spin_json.py", "while True:\n    pass\n");

        var result = await Cli.RunAsync("run", file, "--time-limit", "0.5", "--json");

        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("time-limit", root.GetProperty("verdict").GetString());
        // At most the limit (plus accounting slack); less when a busy machine lets the wall-clock limit strike first.
        Assert.InRange(root.GetProperty("cpuTimeMs").GetInt64(), 1, 1500);
        var expected = root.GetProperty("signal").ValueKind == JsonValueKind.Number ? 128 + root.GetProperty("signal").GetInt32() : 124;
        Assert.True(result.ExitCode == expected, result.ToString());
    }

    [Fact]
    public async Task Run_MemoryLimit_ReportsMemoryLimit()
    {
        var file = fixture.Write("hog.py", "block = bytearray(200 * 1024 * 1024)\nprint(len(block))\n");

        var result = await Cli.RunAsync("run", file, "--memory-limit", "64", "--json");

        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("memory-limit", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("", json.RootElement.GetProperty("stdout").GetString());
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task Run_OutputFlood_IsCutAtTheCapAndReportedAsOutputLimit()
    {
        var file = fixture.Write("flood.py", "while True:\n    print('y' * 1000)\n");

        var result = await Cli.RunAsync("run", file, "--json");

        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal("output-limit", root.GetProperty("verdict").GetString());
        Assert.True(root.GetProperty("outputTruncated").GetBoolean());
        Assert.InRange(root.GetProperty("stdout").GetString()!.Length, 1, 16 * 1024 * 1024);
        Assert.NotEqual(0, result.ExitCode);
    }

    [Fact]
    public async Task Run_Output_StreamsWhileTheProgramIsStillRunning()
    {
        var file = fixture.Write("slow_lines.py", "import time\nprint('first', flush=True)\ntime.sleep(3)\nprint('second')\n");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var run = CliServer.Start("run", file);

        await run.WaitForLineAsync("^first$", timeout.Token);
        var exitedWhenFirstArrived = run.Process.HasExited;
        var secondWhenFirstArrived = run.Stdout.Contains("second", StringComparison.Ordinal);
        var code = await run.WaitForExitAsync(timeout.Token);

        Assert.False(exitedWhenFirstArrived, "the first line only arrived once the program had ended");
        Assert.False(secondWhenFirstArrived);
        Assert.True(code == 0, run.ToString());
        Assert.Equal("first\nsecond\n", run.Stdout);
    }

    [Fact]
    public async Task Run_SourceLargerThanOneMegabyte_IsAUsageError()
    {
        var file = fixture.Write("huge.py", "#" + new string('x', 1024 * 1024) + "\n");

        var result = await Cli.RunAsync("run", file);

        AssertUsageError(result, "source files are limited to 1 MB");
    }

    [Fact]
    public async Task Run_ForbiddenSyscall_ReportsSecurityViolationAndExits128PlusSigsys()
    {
        // ptrace is outside the seccomp allowlist: the kernel kills the process with SIGSYS (31).
        var file = fixture.Write("ptrace.py", """
            import ctypes, os
            number = {'x86_64': 101, 'aarch64': 117}[os.uname().machine]
            print('calling', flush=True)
            print(ctypes.CDLL(None).syscall(number, 0, 0, 0, 0))
            """);

        var result = await Cli.RunAsync("run", file, "--json");

        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("security-violation", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal("calling\n", json.RootElement.GetProperty("stdout").GetString());
        Assert.True(result.ExitCode == 128 + 31, result.ToString());
    }

    [Fact]
    public async Task Run_StdinFromFile_FeedsTheProgram()
    {
        var input = fixture.Write("name.txt", "Bob\n");

        var result = await Cli.RunAsync("run", Hello, "--stdin", input);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Hello, Bob!\n", result.Stdout);
    }

    [Fact]
    public async Task Run_StdinDash_FeedsThisProcessesStdin()
    {
        var result = await Cli.RunAsync(["run", Hello, "--stdin", "-"], stdin: "Alice\n");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Hello, Alice!\n", result.Stdout);
    }

    [Fact]
    public async Task Run_NoStdinOption_ProgramSeesEmptyInputEvenWhenOursHasData()
    {
        var result = await Cli.RunAsync(["run", Hello], stdin: "Mallory\n");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("Hello, world!\n", result.Stdout);
    }

    [Fact]
    public async Task Run_Json_PrintsOneObjectWithTheContractShapeAndNothingElse()
    {
        var file = fixture.Write("json3.py", "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.exit(3)\n");

        var result = await Cli.RunAsync("run", file, "--json");

        Assert.True(result.ExitCode == 3, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        var root = json.RootElement;
        Assert.Equal(RunJsonKeys.Order(StringComparer.Ordinal), root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("runtime-error", root.GetProperty("verdict").GetString());
        Assert.Equal(3, root.GetProperty("exitCode").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("signal").ValueKind);
        Assert.Equal("out\n", root.GetProperty("stdout").GetString());
        Assert.Equal("err\n", root.GetProperty("stderr").GetString());
        Assert.False(root.GetProperty("outputTruncated").GetBoolean());
        Assert.True(root.GetProperty("wallTimeMs").GetInt64() > 0);
        Assert.True(root.GetProperty("memoryKb").GetInt64() > 0);
        // The program's stderr is in the JSON, not streamed to ours.
        Assert.DoesNotContain("err", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_JsonForASuccessfulRun_SaysOkWithExitCodeZero()
    {
        var result = await Cli.RunAsync("run", Hello, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("ok", json.RootElement.GetProperty("verdict").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("exitCode").GetInt32());
        Assert.Equal("Hello, world!\n", json.RootElement.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Run_LanguageOption_OverridesTheExtension()
    {
        var file = fixture.Write("script.txt", "print(6 * 7)\n");

        var result = await Cli.RunAsync("run", file, "--language", "python");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("42\n", result.Stdout);
    }

    [Fact]
    public async Task Run_UnknownLanguage_IsAUsageErrorListingTheLanguages()
    {
        var result = await Cli.RunAsync("run", Hello, "--language", "cobol");

        AssertUsageError(result, "unknown language 'cobol'");
        Assert.Contains("python", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingFile_IsAUsageError()
    {
        var result = await Cli.RunAsync("run", Path.Combine(fixture.Scratch, "nope.py"));

        AssertUsageError(result, "nope.py: no such file");
    }

    [Fact]
    public async Task Run_Folder_IsAUsageErrorSayingSo()
    {
        var result = await Cli.RunAsync("run", fixture.Scratch);

        AssertUsageError(result, "is a folder; give a source file");
    }

    [Fact]
    public async Task Run_UnknownExtension_IsAUsageErrorPointingAtLanguageOption()
    {
        var file = fixture.Write("program.zzz", "print('hi')\n");

        var result = await Cli.RunAsync("run", file);

        AssertUsageError(result, "cannot tell the language of program.zzz");
        Assert.Contains("--language", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_MissingStdinFile_IsAUsageError()
    {
        var result = await Cli.RunAsync("run", Hello, "--stdin", Path.Combine(fixture.Scratch, "absent.txt"));

        AssertUsageError(result, "absent.txt: no such file");
    }

    [Theory]
    [InlineData("--bogus", "unknown option '--bogus'")]
    [InlineData("--time-limit", "--time-limit 'abc' must be a positive number of seconds", "abc")]
    [InlineData("--time-limit", "--time-limit '0' must be a positive number of seconds", "0")]
    [InlineData("--memory-limit", "--memory-limit '1.5' must be a positive number of megabytes", "1.5")]
    public async Task Run_BadOption_IsAUsageErrorNamingTheOption(string option, string message, string? value = null)
    {
        string[] args = value is null ? ["run", option, Hello] : ["run", option, value, Hello];

        var result = await Cli.RunAsync(args);

        AssertUsageError(result, message);
        Assert.Contains("sandbox run --help", result.CliStderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_LimitAboveTheRunnersMaximum_IsAUsageError()
    {
        var result = await Cli.RunAsync("run", Hello, "--time-limit", "1000");

        AssertUsageError(result, "above this runner's maximum");
    }

    [Theory]
    [InlineData("--time-limit", "1e12")] // too long for a TimeSpan: was "internal error: TimeSpan overflowed"
    [InlineData("--time-limit", "1e300")]
    [InlineData("--time-limit", "1e400")] // too large for a double
    [InlineData("--memory-limit", "2147483648")] // too large for an int: was "must be a positive number"
    [InlineData("--memory-limit", "99999999999999999999999")]
    public async Task Run_LimitFarAboveTheRunnersMaximum_IsTheSameUsageErrorAsOneJustAboveIt(string option, string value)
    {
        var result = await Cli.RunAsync("run", Hello, option, value);

        AssertUsageError(result, "is above this runner's maximum");
    }

    /// <summary>A program that prints the bytes of its stdin in hex, so a test sees exactly what arrived.</summary>
    private string StdinHexProgram => fixture.Write("stdin_hex.py", "import sys\nprint(sys.stdin.buffer.read().hex())\n");

    [Theory]
    [InlineData("efbbbf48c3a90a")] // a byte order mark, then "Hé\n": the mark is passed on, not dropped
    [InlineData("e282ac20f09f988020636166c3a90a")] // "€ 😀 café\n": 3- and 4-byte sequences
    public Task Run_Utf8Stdin_ReachesTheProgramByteForByte(string hex)
        => AssertStdinReachesTheProgramAsync(hex, $"input_{hex[..8]}.txt");

    [Theory]
    [InlineData("4142ff43")] // a byte that is never UTF-8
    [InlineData("fffe48006900")] // UTF-16 with its byte order mark
    [InlineData("616263c3a9e282")] // a sequence cut short at the end
    [InlineData("6361666520e92e")] // Latin-1 "café."
    public Task Run_StdinThatIsNotUtf8_ReachesTheProgramByteForByte(string hex)
        => AssertStdinReachesTheProgramAsync(hex, $"binary_{hex}.bin");

    /// <summary>The bytes of <paramref name="hex"/>, given with <c>--stdin FILE</c> and with <c>--stdin -</c>, reach the program unchanged.</summary>
    private async Task AssertStdinReachesTheProgramAsync(string hex, string fileName)
    {
        var bytes = Convert.FromHexString(hex);
        var input = Path.Combine(fixture.Scratch, fileName);
        await File.WriteAllBytesAsync(input, bytes);

        var fromFile = await Cli.RunAsync("run", StdinHexProgram, "--stdin", input);
        var fromStdin = await Cli.RunWithInputAsync(["run", StdinHexProgram, "--stdin", "-"], bytes);

        Assert.True(fromFile.ExitCode == 0, fromFile.ToString());
        Assert.Equal(hex + "\n", fromFile.Stdout);
        Assert.True(fromStdin.ExitCode == 0, fromStdin.ToString());
        Assert.Equal(hex + "\n", fromStdin.Stdout);
    }

    [Fact]
    public async Task Run_RandomBytesOnStdin_ReachTheProgramUnchanged()
    {
        // 4096 random bytes used to be refused (and before that, to arrive as 7409 bytes of U+FFFD and whatever was valid).
        var bytes = new byte[4096];
        new Random(4096).NextBytes(bytes);
        bytes[100] = 0xFF;

        var result = await Cli.RunWithInputAsync(["run", StdinHexProgram, "--stdin", "-"], bytes);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(Convert.ToHexStringLower(bytes) + "\n", result.Stdout);
    }

    [Fact]
    public async Task Run_ProgramWritingEveryByteValue_StdoutRedirectedToAFile_HoldsExactlyThoseBytes()
    {
        // What `sandbox run b.py > out.bin` leaves: it used to hold 512 bytes, each invalid byte turned into U+FFFD.
        var program = fixture.Write("every_byte.py", "import sys\nsys.stdout.buffer.write(bytes(range(256)))\nsys.stdout.flush()\nsys.stderr.buffer.write(bytes(reversed(range(256))))\n");
        var stdout = Path.Combine(fixture.Scratch, "every_byte.out");
        var stderr = Path.Combine(fixture.Scratch, "every_byte.err");

        var exit = await Cli.RunToFilesAsync(["run", program], stdout, stderr);

        byte[] everyByte = [.. Enumerable.Range(0, 256).Select(b => (byte)b)];
        var err = await File.ReadAllBytesAsync(stderr);
        Assert.True(exit == 0, $"exit {exit}; stderr: {Convert.ToHexString(err)}");
        var written = await File.ReadAllBytesAsync(stdout);
        Assert.Equal(everyByte, written);
        // The CLI writes nothing else to stderr for a run that succeeds.
        Assert.Equal([.. everyByte.Reverse()], err);
    }

    [Fact]
    public async Task Run_SourceThatIsNotUtf8_IsAUsageErrorNamingTheFileAndTheByte()
    {
        var file = Path.Combine(fixture.Scratch, "latin1.py");
        await File.WriteAllBytesAsync(file, [.. "print('caf"u8, 0xE9, .. "')\n"u8]);

        var result = await Cli.RunAsync("run", file);

        AssertUsageError(result, "latin1.py is not UTF-8 text (invalid byte at offset 10); the sandbox takes source code as UTF-8");
    }

    [Fact]
    public async Task Run_Utf8Source_PrintsItsTextUnchanged()
    {
        var file = fixture.Write("utf8.py", "print('café 😀')\n");

        var result = await Cli.RunAsync("run", file);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("café 😀\n", result.Stdout);
    }

    [Fact]
    public async Task Run_OutputThatIsNotUtf8_JsonHasItsTextAndItsExactBytesInBase64()
    {
        // JSON is text: "stdout" shows U+FFFD for the invalid byte, "stdoutBase64" holds the bytes (docs/cli.md).
        var file = fixture.Write("binary_out.py", "import sys\nsys.stdout.buffer.write(b'a\\xffb\\n')\nprint('fine', file=sys.stderr)\n");

        var result = await Cli.RunAsync("run", file, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        using var json = ParseSingleObject(result.Stdout);
        Assert.Equal("a\uFFFDb\n", json.RootElement.GetProperty("stdout").GetString());
        Assert.Equal([(byte)'a', 0xFF, (byte)'b', (byte)'\n'], Convert.FromBase64String(json.RootElement.GetProperty("stdoutBase64").GetString()!));
        Assert.Equal("fine\n", json.RootElement.GetProperty("stderr").GetString());
        Assert.False(json.RootElement.TryGetProperty("stderrBase64", out _), "stderr is UTF-8: its text says it all");
    }

    [Fact]
    public async Task Run_UnreachableRunner_IsAnInternalError()
    {
        var result = await Cli.RunAsync("run", Hello, "--runner", "ws://127.0.0.1:1/rpc");

        Assert.True(result.ExitCode == 70, result.ToString());
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("sandbox: cannot connect to the runner at ws://127.0.0.1:1/rpc", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Sigterm_StopsTheProgramInsideTheSandbox()
    {
        // A marker no other process on the machine has in its command line, to find the sandboxed process from the host.
        var marker = $"{Random.Shared.Next(100_000, 999_999)}.{Random.Shared.Next(100, 999)}";
        var file = fixture.Write("sleeper.py", $"import os\nprint('started', flush=True)\nos.execvp('sleep', ['sleep', '{marker}'])\n");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var run = CliServer.Start("run", file);
        await run.WaitForLineAsync("^started$", timeout.Token);
        await WaitUntilAsync(() => ProcessesWithArgument(marker).Count > 0, "the sandboxed sleep to start", timeout.Token);
        var engine = Assert.Single(SandboxContainers.InstancesOf(run.Process.Id));

        await run.SignalAsync("TERM");
        var code = await run.WaitForExitAsync(timeout.Token);

        Assert.True(code == 130, $"exit {code}\n{run}");
        Assert.Contains("sandbox: cancelled", run.Stderr, StringComparison.Ordinal);
        await WaitUntilAsync(() => ProcessesWithArgument(marker).Count == 0, "the sandboxed sleep to be killed", timeout.Token);
        SandboxContainers.AssertNoneLeft(engine);
    }

    internal static JsonDocument ParseSingleObject(string stdout)
    {
        Assert.EndsWith("\n", stdout, StringComparison.Ordinal);
        Assert.Single(stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        var json = JsonDocument.Parse(stdout);
        Assert.Equal(JsonValueKind.Object, json.RootElement.ValueKind);
        return json;
    }

    internal static void AssertUsageError(CliResult result, string message)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Equal("", result.Stdout);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("sandbox: ", line, StringComparison.Ordinal);
        Assert.Contains(message, line, StringComparison.Ordinal);
    }

    internal static List<int> ProcessesWithArgument(string argument)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                if (argv.Contains(argument, StringComparer.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to read.
            }
        }

        return found;
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, string what, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            if (!await timer.WaitForNextTickAsync(cancellationToken))
            {
                break;
            }
        }

        Assert.True(condition(), $"timed out waiting for {what}");
    }
}
