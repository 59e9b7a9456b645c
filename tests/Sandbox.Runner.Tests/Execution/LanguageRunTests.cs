using Sandbox.Runner.Execution;
using Sandbox.Runner.Languages;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Execution;

/// <summary>Every language of the catalog, through the real sandbox: hello, a compile error, an uncaught exception.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class LanguageRunTests(SandboxFixture sandbox)
{
    public static TheoryData<string> Languages => [.. LanguageCatalog.LoadDefault().All.Select(l => l.Id)];

    private static readonly Dictionary<string, string> SyntaxErrors = new()
    {
        ["python"] = "print('a'\n",
        ["c"] = "int main(void) { return 0 }\n",
        ["cpp"] = "int main() { return 0 }\n",
        ["java"] = "public class Main { public static void main(String[] a) { int x = } }\n",
        ["javascript"] = "let x = ;\n",
        ["bash"] = "if then fi\n",
        ["perl"] = "my $x = ;\n",
        ["ruby"] = "def f(\n",
        ["go"] = "package main\nfunc main() { x := }\n",
        ["rust"] = "fn main() { let x = ; }\n",
        ["php"] = "<?php\n$x = ;\n",
    };

    private static readonly Dictionary<string, string> Crashes = new()
    {
        ["python"] = "def f():\n    raise ValueError('boom')\nf()\n",
        ["c"] = "#include <stdlib.h>\nint main(void) { abort(); }\n",
        ["cpp"] = "#include <stdexcept>\nint main() { throw std::runtime_error(\"boom\"); }\n",
        ["java"] = "public class Main { public static void main(String[] a) { throw new IllegalStateException(\"boom\"); } }\n",
        ["javascript"] = "function f() { throw new Error('boom'); }\nf();\n",
        ["bash"] = "set -e\necho boom >&2\nfalse\n",
        ["perl"] = "die \"boom\\n\";\n",
        ["ruby"] = "raise 'boom'\n",
        ["go"] = "package main\nfunc main() { panic(\"boom\") }\n",
        ["rust"] = "fn main() { panic!(\"boom\"); }\n",
        ["php"] = "<?php\nthrow new Exception('boom');\n",
    };

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Run_HelloWorld_IsOk(string id)
    {
        var language = sandbox.Languages.Find(id)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = await sandbox.Runner.RunAsync(new RunRequest(id, language.Hello), null, timeout.Token);
        Assert.True(result.Verdict == RunVerdict.Ok, $"{id}: {result}");
        Assert.Equal("Hello, world!\n", result.Stdout);
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Run_SyntaxError_IsCompileErrorWithMessage(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = await sandbox.Runner.RunAsync(new RunRequest(id, SyntaxErrors[id]), null, timeout.Token);
        var language = sandbox.Languages.Find(id)!;
        if (language.Compile.Count > 0)
        {
            Assert.True(result.Verdict == RunVerdict.CompileError, $"{id}: {result}");
            Assert.False(string.IsNullOrWhiteSpace(result.CompileOutput), $"{id}: no compiler message");
        }
        else
        {
            // Interpreters report syntax errors when they run.
            Assert.True(result.Verdict == RunVerdict.RuntimeError, $"{id}: {result}");
            Assert.False(string.IsNullOrWhiteSpace(result.Stderr), $"{id}: no error message");
        }
    }

    [Theory]
    [MemberData(nameof(Languages))]
    public async Task Run_UncaughtException_IsRuntimeErrorWithTrace(string id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var result = await sandbox.Runner.RunAsync(new RunRequest(id, Crashes[id]), null, timeout.Token);
        Assert.True(result.Verdict == RunVerdict.RuntimeError, $"{id}: {result}");
        if (id != "c")
        {
            Assert.Contains("boom", result.Stderr, StringComparison.Ordinal);
        }
    }
}
