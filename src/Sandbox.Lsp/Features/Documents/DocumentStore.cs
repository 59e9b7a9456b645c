using System.Collections.Concurrent;
using Sandbox.Lsp.Hosting;

namespace Sandbox.Lsp.Features.Documents;

/// <summary>An open document's latest full text.</summary>
internal sealed record OpenDocument(string Uri, string? LanguageId, int Version, string Text)
{
    /// <summary>The document's file name (last path segment of the URI), e.g. <c>main.py</c>.</summary>
    public string FileName => DocumentStore.FileNameOf(Uri);
}

/// <summary>The documents the client has open (full sync: every change carries the whole text).</summary>
internal sealed class DocumentStore
{
    private readonly ConcurrentDictionary<string, OpenDocument> documents = new(StringComparer.Ordinal);

    /// <summary>
    /// The document the user worked on last (opened, changed, saved or asked lenses for): the target of a command sent
    /// without arguments, as Helix's <c>:lsp-workspace-command</c> and Emacs's eglot send them.
    /// </summary>
    public string? LastTouchedUri { get; private set; }

    public void Touch(string uri)
    {
        if (documents.ContainsKey(uri))
        {
            LastTouchedUri = uri;
        }
    }

    public void Open(string uri, string? languageId, int version, string text)
    {
        documents[uri] = new OpenDocument(uri, languageId, version, text);
        LastTouchedUri = uri;
    }

    /// <summary>Replaces the text; returns false when the document is not open.</summary>
    public bool Change(string uri, int? version, string text)
    {
        if (!documents.TryGetValue(uri, out var current))
        {
            return false;
        }

        documents[uri] = current with { Version = version ?? current.Version + 1, Text = text };
        LastTouchedUri = uri;
        return true;
    }

    public void Close(string uri)
    {
        documents.TryRemove(uri, out _);
        if (LastTouchedUri == uri)
        {
            LastTouchedUri = null;
        }
    }

    public OpenDocument? Get(string uri) => documents.TryGetValue(uri, out var document) ? document : null;

    /// <summary>
    /// The open document, or for a <c>file:</c> URI that is not open, the file's content on disk (so a command can name
    /// a file the editor has not synced) when <paramref name="access"/> allows it; null when neither. Throws
    /// <see cref="ServerFileException"/> for a file that is not a regular one or is too large.
    /// </summary>
    public async Task<OpenDocument?> GetOrReadAsync(string uri, ServerFileAccess access, CancellationToken cancellationToken)
    {
        if (Get(uri) is { } open)
        {
            return open;
        }

        if (access != ServerFileAccess.Allowed
            || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !parsed.IsFile || !File.Exists(parsed.LocalPath))
        {
            return null;
        }

        var text = await ServerFiles.ReadTextAsync(parsed.LocalPath, "the source file", ServerFiles.MaxSourceBytes, cancellationToken);
        return new OpenDocument(uri, null, 0, text);
    }

    /// <summary>The last path segment of a URI, unescaped.</summary>
    public static string FileNameOf(string uri)
    {
        var path = Uri.TryCreate(uri, UriKind.Absolute, out var parsed) ? parsed.AbsolutePath : uri;
        var slash = path.LastIndexOf('/');
        return Uri.UnescapeDataString(slash >= 0 ? path[(slash + 1)..] : path);
    }
}
