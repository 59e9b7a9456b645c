using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Infrastructure;

/// <summary>A tiny catalog for engine tests that must not depend on the full language catalog's data.</summary>
internal sealed class TestCatalog : ILanguageCatalog
{
    public static readonly LanguageDefinition Bash = new()
    {
        Id = "bash", Name = "Bash", SourceFile = "main.sh", Run = ["bash", "{source}"], LineComment = "#",
        Requires = ["/usr/bin/bash"], Hello = "echo 'Hello, world!'\n",
    };

    public static readonly LanguageDefinition Python = new()
    {
        Id = "python", Name = "Python 3", SourceFile = "main.py", Run = ["python3", "{source}"], LineComment = "#",
        Requires = ["/usr/bin/python3"], Hello = "print('Hello, world!')\n",
    };

    public static readonly LanguageDefinition C = new()
    {
        Id = "c", Name = "C", SourceFile = "main.c", Compile = ["gcc", "-O2", "-o", "main", "{source}", "-lm"], Run = ["./main"],
        Artifacts = ["main"], LineComment = "//", Requires = ["/usr/bin/gcc"], Hello = "#include <stdio.h>\nint main(void){puts(\"Hello, world!\");return 0;}\n",
    };

    public IReadOnlyList<LanguageDefinition> All { get; } = [Bash, Python, C];

    public IReadOnlyList<LanguageDefinition> Available => All;

    public LanguageDefinition? Find(string idOrAlias) => All.FirstOrDefault(l => string.Equals(l.Id, idOrAlias, StringComparison.OrdinalIgnoreCase));

    public LanguageDefinition? FindByFileName(string fileName) => null;
}
