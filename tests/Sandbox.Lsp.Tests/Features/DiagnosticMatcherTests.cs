using Sandbox.Lsp.Features.Diagnostics;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Languages;

namespace Sandbox.Lsp.Tests.Features;

/// <summary>Diagnostics from the real catalog's patterns, sent over the wire as <see cref="LanguageInfo"/>.</summary>
public sealed class DiagnosticMatcherTests
{
    private static readonly LanguageCatalog Catalog = LanguageCatalog.LoadDefault(fileExists: _ => true);

    private static LanguageInfo Wire(string id)
    {
        var l = Catalog.Find(id)!;
        return new LanguageInfo(l.Id, l.Name, l.Aliases, l.Extensions, l.LspLanguageIds, l.LineComment, l.Starter, l.SourceFile, l.Diagnostics);
    }

    [Fact]
    public void PythonTraceback_MarksTheInnermostLineOfTheUsersFile()
    {
        const string source = "def f():\n    return undefined_name\n\nprint(f())\n";
        const string stderr =
            "Traceback (most recent call last):\n" +
            "  File \"/work/main.py\", line 4, in <module>\n" +
            "    print(f())\n" +
            "  File \"/work/main.py\", line 2, in f\n" +
            "    return undefined_name\n" +
            "NameError: name 'undefined_name' is not defined\n";

        var diagnostic = Assert.Single(DiagnosticMatcher.Match(Wire("python"), "solution.py", source, null, stderr));

        Assert.Equal(1, diagnostic.Range.Start.Line);
        Assert.Equal(4, diagnostic.Range.Start.Character);
        Assert.Equal("    return undefined_name".Length, diagnostic.Range.End.Character);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Contains("NameError", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PythonSyntaxError_FromTheCompileStep_IsOnItsLine()
    {
        const string source = "x = 1\nprint(x\n";
        const string compile =
            "  File \"main.py\", line 2\n" +
            "    print(x\n" +
            "         ^\n" +
            "SyntaxError: '(' was never closed\n";

        var diagnostic = Assert.Single(DiagnosticMatcher.Match(Wire("python"), "a.py", source, compile, null));

        Assert.Equal(1, diagnostic.Range.Start.Line);
        Assert.StartsWith("SyntaxError", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GccOutput_GivesColumnsAndSeverities_AndIgnoresOtherFiles()
    {
        const string source = "#include <stdio.h>\nint main() {\n  int x = y;\n}\n";
        const string compile =
            "main.c: In function 'main':\n" +
            "main.c:3:11: error: 'y' undeclared (first use in this function)\n" +
            "main.c:3:7: warning: unused variable 'x' [-Wunused-variable]\n" +
            "/usr/include/stdio.h:10:1: error: something in a header\n";

        var diagnostics = DiagnosticMatcher.Match(Wire("c"), "prog.c", source, compile, null);

        Assert.Equal([(2, 10, DiagnosticSeverity.Error), (2, 6, DiagnosticSeverity.Warning)],
            diagnostics.Select(d => (d.Range.Start.Line, d.Range.Start.Character, d.Severity)));
    }

    [Fact]
    public void LineBeyondTheDocument_IsClampedToTheLastLine()
    {
        var diagnostics = DiagnosticMatcher.Match(Wire("c"), "x.c", "int main(){}", "main.c:40:1: error: boom\n", null);

        Assert.Equal(0, Assert.Single(diagnostics).Range.Start.Line);
    }

    [Fact]
    public void LanguageWithoutPatterns_GivesNothing()
    {
        var info = Wire("python") with { Diagnostics = null };

        Assert.Empty(DiagnosticMatcher.Match(info, "a.py", "x\n", "  File \"main.py\", line 1\nSyntaxError: bad\n", null));
    }
}
