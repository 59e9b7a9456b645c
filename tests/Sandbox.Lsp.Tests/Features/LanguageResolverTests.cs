using Sandbox.Lsp.Features.Documents;
using Sandbox.Lsp.Features.Languages;
using Sandbox.Lsp.Tests.Infrastructure;

namespace Sandbox.Lsp.Tests.Features;

public sealed class LanguageResolverTests
{
    [Theory]
    [InlineData("# sandbox: problem=fizzbuzz\nprint(1)\n", "#", "fizzbuzz", 0)]
    [InlineData("#!/usr/bin/env python3\n#   sandbox:problem = two-sum \n", "#", "two-sum", 1)]
    [InlineData("// sandbox: problem=hello\r\nint main(){}\n", "//", "hello", 0)]
    [InlineData("-- sandbox: problem=x", "--", "x", 0)]
    public void FindProblemDeclaration_ReadsTheFirstLineComment(string text, string comment, string problem, int line)
    {
        Assert.Equal((problem, line), LanguageResolver.FindProblemDeclaration(text, comment));
    }

    [Theory]
    [InlineData("print(1)\n# sandbox: problem=fizzbuzz\n", "#")]
    [InlineData("// sandbox: problem=fizzbuzz\n", "#")]
    [InlineData("# sandbox: problems=fizzbuzz\n", "#")]
    [InlineData("", "#")]
    public void FindProblemDeclaration_IgnoresAnythingElse(string text, string comment)
    {
        Assert.Null(LanguageResolver.FindProblemDeclaration(text, comment));
    }

    [Theory]
    [InlineData("file:///a/b.py", "python", null, "python")]
    [InlineData("file:///a/b.cc", "plaintext", null, "cpp")]
    [InlineData("untitled:1", "cpp", null, "cpp")]
    [InlineData("file:///a/b.txt", "plaintext", "python3", "python")]
    [InlineData("file:///a/b.txt", "plaintext", null, null)]
    public void Resolve_PrefersArgumentThenLanguageIdThenExtension(string uri, string languageId, string? explicitLanguage, string? expected)
    {
        var document = new OpenDocument(uri, languageId, 1, "");

        Assert.Equal(expected, LanguageResolver.Resolve([FakeSandboxRpc.Python, FakeSandboxRpc.Cpp], document, explicitLanguage)?.Id);
    }

    [Fact]
    public void FileNameOf_UnescapesTheLastSegment()
    {
        Assert.Equal("my file.py", DocumentStore.FileNameOf("file:///home/u/my%20file.py"));
    }
}
