using System.Collections.Concurrent;
using Sandbox.Lsp.Features.Configuration;
using Sandbox.Lsp.Features.Documents;
using Sandbox.Lsp.Features.Logging;
using Sandbox.Lsp.Features.Runs;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;

namespace Sandbox.Lsp.Server;

/// <summary>What the handlers of one session share.</summary>
internal sealed class SessionContext
{
    private readonly ConcurrentDictionary<string, bool> withDiagnostics = new(StringComparer.Ordinal);

    public required LanguageClient Client { get; init; }

    public required ClientLogger Logger { get; init; }

    public required LanguageServerOptions Options { get; init; }

    public required RunnerConnection Runner { get; init; }

    /// <summary>Whether the client may have this server read files of its machine (stdio: yes; WebSocket: no).</summary>
    public required ServerFileAccess FileAccess { get; init; }

    /// <summary>Whether the client's settings may name the runner (stdio: yes; WebSocket: no, it is the server's).</summary>
    public required ClientRunnerChoice RunnerChoice { get; init; }

    public DocumentStore Documents { get; } = new();

    public RunRegistry Runs { get; } = new();

    /// <summary>The client's current <c>sandbox</c> settings.</summary>
    public SandboxSettings Settings { get; set; } = new();

    /// <summary>Whether the client accepts <c>window/workDoneProgress/create</c>.</summary>
    public bool ClientCreatesProgressTokens { get; set; }

    /// <summary>Local path of the workspace root, for relative paths in settings.</summary>
    public string? WorkspaceRoot { get; set; }

    public void ShowMessage(MessageType type, string message) => Client.Notify(LspMethods.ShowMessage, new MessageParams(type, message));

    /// <summary>Publishes diagnostics for a document, remembering which documents have some so a change can clear them.</summary>
    public void PublishDiagnostics(string uri, int? version, IReadOnlyList<Diagnostic> diagnostics)
    {
        withDiagnostics[uri] = diagnostics.Count > 0;
        Client.Notify(LspMethods.PublishDiagnostics, new PublishDiagnosticsParams(uri, diagnostics, version));
    }

    /// <summary>Clears a document's diagnostics if it has any (they describe text that no longer exists).</summary>
    public void ClearDiagnostics(string uri, int? version)
    {
        if (withDiagnostics.TryGetValue(uri, out var any) && any)
        {
            PublishDiagnostics(uri, version, []);
        }
    }
}
