using Sandbox.Lsp.Features.Configuration;
using Sandbox.Lsp.Features.Languages;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Server;
using LspCodeLens = Sandbox.Lsp.Protocol.CodeLens;
using LspRange = Sandbox.Lsp.Protocol.Range;

namespace Sandbox.Lsp.Features.CodeLens;

/// <summary>
/// <c>textDocument/codeLens</c>: "Run in sandbox" on the first line, and "Check against ID" when the file declares
/// its problem (<c># sandbox: problem=ID</c> in the language's comment syntax, after an optional shebang).
/// </summary>
internal sealed class CodeLensHandler(SessionContext session)
{
    /// <summary>Title of the run lens.</summary>
    public const string RunTitle = "Run in sandbox";

    public async Task<IReadOnlyList<LspCodeLens>> GetAsync(CodeLensParams request, CancellationToken cancellationToken)
    {
        if (session.Documents.Get(request.TextDocument.Uri) is not { } document)
        {
            return [];
        }

        session.Documents.Touch(document.Uri);
        var firstLine = new LspRange(new Position(0, 0), new Position(0, 0));
        var lenses = new List<LspCodeLens>
        {
            new(firstLine, new Command(RunTitle, SandboxCommands.Run, [new SandboxCommandArguments(document.Uri)])),
        };

        try
        {
            var languages = await session.Runner.GetLanguagesAsync(cancellationToken);
            if (LanguageResolver.Resolve(languages, document, explicitLanguage: null) is { } language
                && LanguageResolver.FindProblemDeclaration(document.Text, language.LineComment) is { } declaration)
            {
                lenses.Add(new LspCodeLens(
                    firstLine,
                    new Command($"Check against {declaration.Problem}", SandboxCommands.Check, [new SandboxCommandArguments(document.Uri, Problem: declaration.Problem)])));
            }
        }
        catch (RunnerUnavailableException)
        {
            // The user was told when the connection failed; the run lens still lets them retry.
        }

        return lenses;
    }
}
