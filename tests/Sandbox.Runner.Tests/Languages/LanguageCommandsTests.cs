using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Languages;

public sealed class LanguageCommandsTests
{
    private static readonly LanguageCatalog Catalog = LanguageCatalog.LoadDefault();

    [Fact]
    public void RunCommand_FillsTheMemoryLimitIntoTheJvmFlags()
    {
        var argv = Catalog.Find("java")!.RunCommand(256);
        Assert.Contains("-XX:MaxRAM=256m", argv);
        Assert.DoesNotContain(argv, argument => argument.Contains('{', StringComparison.Ordinal));
    }

    [Fact]
    public void CompileCommand_FillsTheSourceFileName() =>
        Assert.Equal(["/usr/bin/gcc", "-O2", "-std=c17", "-Wall", "-o", "main", "main.c", "-lm"], Catalog.Find("c")!.CompileCommand(512));

    [Fact]
    public void CompileCommand_OfAnInterpretedLanguage_IsEmpty() =>
        Assert.Empty(Catalog.Find("ruby")!.CompileCommand(512));

    [Fact]
    public void Expand_EveryCatalogCommand_LeavesNoPlaceholder()
    {
        foreach (var language in Catalog.All)
        {
            foreach (var argument in language.CompileCommand(512).Concat(language.RunCommand(256)))
            {
                Assert.DoesNotContain("{source}", argument, StringComparison.Ordinal);
                Assert.DoesNotContain("{memoryMb}", argument, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Expand_ZeroMemory_IsRejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => LanguageCommands.Expand(["x"], "main.c", 0));
}
