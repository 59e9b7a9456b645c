using Sandbox.Runner.Languages;

namespace Sandbox.Runner.Tests.Languages;

public sealed class ProblemDeclarationTests
{
    private static readonly LanguageCatalog Catalog = LanguageCatalog.LoadDefault();

    [Theory]
    [InlineData("python", "# sandbox: problem=fizzbuzz\nprint(1)\n")]
    [InlineData("python", "#!/usr/bin/env python3\n# sandbox: problem=fizzbuzz\nprint(1)\n")]
    [InlineData("python", "#sandbox:problem=fizzbuzz\n")]
    [InlineData("python", "  #   sandbox : problem = fizzbuzz   \r\nprint(1)\r\n")]
    [InlineData("cpp", "// sandbox: problem=fizzbuzz\n#include <iostream>\n")]
    [InlineData("java", "// sandbox: problem=fizzbuzz\npublic class Main {}\n")]
    [InlineData("bash", "#!/bin/bash\n# sandbox: problem=fizzbuzz\necho hi\n")]
    [InlineData("php", "<?php\n// sandbox: problem=fizzbuzz\necho 1;\n")]
    public void Find_FirstLineComment_GivesTheProblem(string language, string text) =>
        Assert.Equal("fizzbuzz", ProblemDeclaration.Find(text, Catalog.Find(language)!));

    [Theory]
    [InlineData("python", "print(1)\n# sandbox: problem=fizzbuzz\n")]
    [InlineData("python", "// sandbox: problem=fizzbuzz\n")]
    [InlineData("cpp", "# sandbox: problem=fizzbuzz\n")]
    [InlineData("python", "# sandbox: problem=\n")]
    [InlineData("python", "# sandbox: problem=fizz buzz\n")]
    [InlineData("python", "# solves fizzbuzz\n")]
    [InlineData("python", "")]
    public void Find_NoDeclarationOnTheFirstLine_IsNull(string language, string text) =>
        Assert.Null(ProblemDeclaration.Find(text, Catalog.Find(language)!));

    [Fact]
    public void Find_KeepsDotsAndDashesOfPackageIds() =>
        Assert.Equal("icpc-2024.hello_world", ProblemDeclaration.Find("// sandbox: problem=icpc-2024.hello_world\n", Catalog.Find("go")!));
}
