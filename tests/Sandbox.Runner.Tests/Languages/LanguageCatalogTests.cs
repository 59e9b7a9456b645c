using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Languages;

public sealed class LanguageCatalogTests
{
    private static readonly string[] ExpectedIds = ["python", "c", "cpp", "java", "javascript", "bash", "perl", "ruby", "go", "rust", "php"];

    private const string Minimal = """
        languages:
          - id: python
            name: Python 3
            aliases: [py]
            extensions: [.py]
            lspLanguageIds: [python]
            sourceFile: main.py
            run: [/usr/bin/python3, '{source}']
            lineComment: '#'
            packages: [python3]
            requires: [/usr/bin/python3]
            diagnostics:
              - origin: runtime
                regex: '^(?<line>\d+)$'
            hello: print("Hello, world!")
        """;

    private static LanguageCatalogException Broken(string yaml) =>
        Assert.Throws<LanguageCatalogException>(() => LanguageCatalog.Parse(yaml, "test.yaml"));

    [Fact]
    public void LoadDefault_HasTheElevenLanguages() =>
        Assert.Equal(ExpectedIds, LanguageCatalog.LoadDefault().All.Select(language => language.Id));

    [Fact]
    public void LoadDefault_EveryLanguageIsComplete()
    {
        foreach (var language in LanguageCatalog.LoadDefault().All)
        {
            Assert.False(string.IsNullOrWhiteSpace(language.Name), language.Id);
            Assert.NotEmpty(language.Extensions);
            Assert.NotEmpty(language.LspLanguageIds);
            Assert.NotEmpty(language.Run);
            Assert.NotEmpty(language.Artifacts);
            Assert.NotEmpty(language.Packages);
            Assert.NotEmpty(language.Requires);
            Assert.NotEmpty(language.Diagnostics);
            Assert.Contains("Hello, world!", language.Hello, StringComparison.Ordinal);
            Assert.False(string.IsNullOrWhiteSpace(language.Starter), language.Id);
            Assert.Contains(language.Diagnostics, pattern => pattern.Origin == DiagnosticOrigin.Runtime || language.Id is "c" or "cpp");
        }
    }

    [Fact]
    public void LoadDefault_RequiredBinariesLiveUnderUsr()
    {
        // Inside the container only the host's /usr is visible: ~/.cargo, pyenv shims or /opt would not be there.
        foreach (var language in LanguageCatalog.LoadDefault().All)
        {
            Assert.All(language.Requires, path => Assert.StartsWith("/usr/", path, StringComparison.Ordinal));
            var program = (language.Compile.Count > 0 ? language.Compile : language.Run)[0];
            Assert.True(program.StartsWith("/usr/", StringComparison.Ordinal), $"{language.Id}: {program}");
        }
    }

    [Fact]
    public void LoadDefault_LspIdsAreTheOnesVsCodeUses()
    {
        var catalog = LanguageCatalog.LoadDefault();
        Assert.Equal(
            ["python", "c", "cpp", "java", "javascript", "shellscript", "perl", "ruby", "go", "rust", "php"],
            catalog.All.Select(language => Assert.Single(language.LspLanguageIds)));
    }

    [Fact]
    public void LoadDefault_JavaAndPhpTakeTheirMemoryFromTheLimit()
    {
        var catalog = LanguageCatalog.LoadDefault();
        Assert.Contains("-XX:MaxRAM={memoryMb}m", catalog.Find("java")!.Run);
        Assert.Contains("-J-XX:MaxRAM={memoryMb}m", catalog.Find("java")!.Compile);
        Assert.Contains("memory_limit={memoryMb}M", catalog.Find("php")!.Run);
    }

    [Theory]
    [InlineData("python", "python")]
    [InlineData("PY", "python")]
    [InlineData("python3", "python")]
    [InlineData("c++", "cpp")]
    [InlineData("CPP", "cpp")]
    [InlineData("shellscript", "bash")]
    [InlineData("sh", "bash")]
    [InlineData("node", "javascript")]
    [InlineData("js", "javascript")]
    [InlineData("golang", "go")]
    [InlineData(" rust ", "rust")]
    public void Find_AcceptsIdsAliasesAndLspIds_IgnoringCase(string name, string expected) =>
        Assert.Equal(expected, LanguageCatalog.LoadDefault().Find(name)?.Id);

    [Theory]
    [InlineData("cobol")]
    [InlineData("")]
    public void Find_UnknownName_IsNull(string name) =>
        Assert.Null(LanguageCatalog.LoadDefault().Find(name));

    [Theory]
    [InlineData("main.py", "python")]
    [InlineData("/home/me/src/solution.CPP", "cpp")]
    [InlineData("Main.java", "java")]
    [InlineData("script.sh", "bash")]
    [InlineData("lib.rs", "rust")]
    [InlineData("index.mjs", "javascript")]
    [InlineData("a.b.go", "go")]
    public void FindByFileName_UsesTheExtension(string fileName, string expected) =>
        Assert.Equal(expected, LanguageCatalog.LoadDefault().FindByFileName(fileName)?.Id);

    [Theory]
    [InlineData("README")]
    [InlineData("notes.txt")]
    [InlineData("py")]
    public void FindByFileName_UnknownExtension_IsNull(string fileName) =>
        Assert.Null(LanguageCatalog.LoadDefault().FindByFileName(fileName));

    [Fact]
    public void Available_IsTheLanguagesWhoseBinariesExist()
    {
        var present = new HashSet<string> { "/usr/bin/python3", "/usr/bin/gcc", "/usr/bin/javac" };
        var catalog = LanguageCatalog.LoadDefault(present.Contains);
        // Java needs both javac and java.
        Assert.Equal(["python", "c"], catalog.Available.Select(language => language.Id));
        Assert.Equal(11, catalog.All.Count);
    }

    [Fact]
    public async Task Run_InALanguageWhoseToolchainIsMissing_IsRefusedBeforeAContainerIsTaken_LookingOnlyForItsBinaries()
    {
        var present = new HashSet<string> { "/usr/bin/python3", "/usr/bin/gcc" };
        var lookedFor = new List<string>();
        var catalog = LanguageCatalog.LoadDefault(path =>
        {
            lookedFor.Add(path);
            return present.Contains(path);
        });
        // Never started: a refusal must come before the engine needs a container.
        await using var runner = new Sandbox.Runner.Execution.CodeRunner(new SandboxOptions(), catalog);
        var refused = await Assert.ThrowsAsync<Sandbox.Runner.Execution.UnknownLanguageException>(
            () => runner.RunAsync(new Sandbox.Runner.Execution.RunRequest("java", "class Main {}"), null, CancellationToken.None));
        Assert.Contains("toolchain is not installed", refused.Message, StringComparison.Ordinal);
        Assert.Contains("openjdk-17-jdk-headless", refused.Message, StringComparison.Ordinal);
        Assert.All(lookedFor, path => Assert.Contains(path, catalog.Find("java")!.Requires));
    }

    [Fact]
    public void MissingPackages_NamesThePackagesOfMissingLanguagesOnly()
    {
        var present = new HashSet<string> { "/usr/bin/python3", "/usr/bin/gcc", "/usr/bin/g++", "/usr/bin/perl", "/usr/bin/bash" };
        var missing = LanguageCatalog.LoadDefault(present.Contains).MissingPackages();
        Assert.Equal(["openjdk-17-jdk-headless", "nodejs", "ruby", "golang-go", "rustc", "php-cli"], missing);
    }

    [Fact]
    public void MissingPackages_WhenEverythingIsInstalled_IsEmpty() =>
        Assert.Empty(LanguageCatalog.LoadDefault(_ => true).MissingPackages());

    [Fact]
    public void Parse_MinimalCatalog_Loads()
    {
        var language = Assert.Single(LanguageCatalog.Parse(Minimal).All);
        Assert.Equal("main.py", language.SourceFile);
        Assert.Empty(language.Compile);
        Assert.Equal(DiagnosticOrigin.Runtime, Assert.Single(language.Diagnostics).Origin);
    }

    [Fact]
    public void Parse_OriginBoth_GivesAPatternForEachStep()
    {
        var language = Assert.Single(LanguageCatalog.Parse(Minimal.Replace("origin: runtime", "origin: both", StringComparison.Ordinal)).All);
        Assert.Equal([DiagnosticOrigin.Compile, DiagnosticOrigin.Runtime], language.Diagnostics.Select(pattern => pattern.Origin));
    }

    [Fact]
    public void Parse_NotYaml_NamesTheFileAndPosition()
    {
        var error = Broken("languages:\n  - id: [unclosed\n");
        Assert.StartsWith("test.yaml (line ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKey_IsRejectedWithItsPosition()
    {
        var error = Broken(Minimal.Replace("    lineComment:", "    lineComent: x\n    lineComment:", StringComparison.Ordinal));
        Assert.Contains("(line 9, column 5)", error.Message, StringComparison.Ordinal);
        Assert.Contains("lineComent", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_Empty_SaysThereAreNoLanguages() =>
        Assert.Equal("test.yaml: no languages (expected a top-level 'languages:' list)", Broken("").Message);

    [Theory]
    [InlineData("    run: [/usr/bin/python3, '{source}']\n", "", "test.yaml: language 'python': 'run' must be a non-empty argv list")]
    [InlineData("    sourceFile: main.py", "    sourceFile: src/main.py", "test.yaml: language 'python': 'sourceFile' must be a plain file name (got 'src/main.py')")]
    [InlineData("    hello: print(\"Hello, world!\")", "", "test.yaml: language 'python': 'hello' is required")]
    [InlineData("    extensions: [.py]", "    extensions: [py]", "test.yaml: language 'python': extension 'py' must start with a dot, like '.py'")]
    [InlineData("  - id: python", "  - id: Python", "test.yaml: languages[0]: 'id' must be lowercase letters, digits, '+', '#' or '-' (got 'Python')")]
    [InlineData("{source}']", "{sauce}']", "test.yaml: language 'python': 'run' uses the unknown placeholder {sauce} (known: {source}, {memoryMb})")]
    [InlineData("requires: [/usr/bin/python3]", "requires: [python3]", "test.yaml: language 'python': 'requires' entry 'python3' must be an absolute path")]
    [InlineData("origin: runtime", "origin: later", "test.yaml: language 'python': diagnostics[0].origin must be compile, runtime or both (got 'later')")]
    [InlineData("regex: '^(?<line>\\d+)$'", "regex: '^(?<row>\\d+)$'", "test.yaml: language 'python': diagnostics[0].regex has no (?<line>...) group")]
    [InlineData("regex: '^(?<line>\\d+)$'", "regex: '(?<message>x)'\n        frame: '(?<line>\\d+)'", "test.yaml: language 'python': diagnostics[0].frame has no (?<file>...) group")]
    [InlineData("origin: runtime", "origin: runtime\n        severity: loud", "test.yaml: language 'python': diagnostics[0].severity must be error, warning, information or hint (got 'loud')")]
    public void Parse_BrokenField_GivesOneClearError(string find, string replace, string expected) =>
        Assert.Equal(expected, Broken(Minimal.Replace(find, replace, StringComparison.Ordinal)).Message);

    [Fact]
    public void Parse_InvalidRegex_NamesThePattern()
    {
        var error = Broken(Minimal.Replace("regex: '^(?<line>\\d+)$'", "regex: '(?<line>\\d+'", StringComparison.Ordinal));
        Assert.StartsWith("test.yaml: language 'python': diagnostics[0].regex is not a valid regular expression: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateAliasAcrossLanguages_IsRejected()
    {
        var second = Minimal["languages:\n".Length..]
            .Replace("id: python", "id: snake", StringComparison.Ordinal)
            .Replace("extensions: [.py]", "extensions: [.snake]", StringComparison.Ordinal)
            .Replace("lspLanguageIds: [python]", "lspLanguageIds: [snake]", StringComparison.Ordinal);
        var error = Broken(Minimal + "\n" + second);
        Assert.Equal("test.yaml: language 'snake': the name 'py' is already used by language 'python'", error.Message);
    }

    [Fact]
    public void Parse_DuplicateExtensionAcrossLanguages_IsRejected()
    {
        var second = Minimal["languages:\n".Length..]
            .Replace("id: python", "id: snake", StringComparison.Ordinal)
            .Replace("aliases: [py]", "aliases: []", StringComparison.Ordinal)
            .Replace("lspLanguageIds: [python]", "lspLanguageIds: [snake]", StringComparison.Ordinal);
        var error = Broken(Minimal + "\n" + second);
        Assert.Equal("test.yaml: language 'snake': the extension '.py' is already used by language 'python'", error.Message);
    }

    [Fact]
    public void Load_ReadsAFileAndNamesItInErrors()
    {
        var path = Path.Combine(Path.GetTempPath(), $"catalog-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, Minimal.Replace("  - id: python", "  - id: PY", StringComparison.Ordinal));
        try
        {
            var error = Assert.Throws<LanguageCatalogException>(() => LanguageCatalog.Load(path));
            Assert.StartsWith(Path.GetFileName(path) + ": languages[0]", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
