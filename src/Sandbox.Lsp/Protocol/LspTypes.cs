using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Runner.Languages;

namespace Sandbox.Lsp.Protocol;

// Hand-written LSP 3.17 types: only the fields this server reads or writes. Unknown fields are ignored on read.

/// <summary>A zero-based line and UTF-16 character offset.</summary>
public sealed record Position(int Line, int Character);

/// <summary>A range between two positions (end exclusive).</summary>
public sealed record Range(Position Start, Position End);

/// <summary>Names a text document.</summary>
public sealed record TextDocumentIdentifier(string Uri);

/// <summary>Names a text document at a version.</summary>
public sealed record VersionedTextDocumentIdentifier(string Uri, int? Version);

/// <summary>A text document as the client opened it.</summary>
public sealed record TextDocumentItem(string Uri, string Text, string? LanguageId = null, int Version = 0);

/// <summary>Params of <c>textDocument/didOpen</c>.</summary>
public sealed record DidOpenTextDocumentParams(TextDocumentItem TextDocument);

/// <summary>A change; this server asks for full sync, so <see cref="Text"/> is the whole document.</summary>
public sealed record TextDocumentContentChangeEvent(string Text, Range? Range = null);

/// <summary>Params of <c>textDocument/didChange</c>.</summary>
public sealed record DidChangeTextDocumentParams(VersionedTextDocumentIdentifier TextDocument, IReadOnlyList<TextDocumentContentChangeEvent> ContentChanges);

/// <summary>Params of <c>textDocument/didClose</c>.</summary>
public sealed record DidCloseTextDocumentParams(TextDocumentIdentifier TextDocument);

/// <summary>Params of <c>textDocument/didSave</c>.</summary>
public sealed record DidSaveTextDocumentParams(TextDocumentIdentifier TextDocument, string? Text = null);

/// <summary>Params of <c>initialize</c>.</summary>
public sealed record InitializeParams(
    int? ProcessId = null,
    ClientInfo? ClientInfo = null,
    string? RootUri = null,
    string? RootPath = null,
    JsonElement? InitializationOptions = null,
    ClientCapabilities? Capabilities = null,
    string? Trace = null,
    IReadOnlyList<WorkspaceFolder>? WorkspaceFolders = null);

/// <summary>Who the client is.</summary>
public sealed record ClientInfo(string Name, string? Version = null);

/// <summary>A workspace folder.</summary>
public sealed record WorkspaceFolder(string Uri, string Name);

/// <summary>The client capabilities this server looks at.</summary>
public sealed record ClientCapabilities(WindowClientCapabilities? Window = null);

/// <summary>Window capabilities: whether the client accepts server-created work-done progress.</summary>
public sealed record WindowClientCapabilities(bool? WorkDoneProgress = null);

/// <summary>Result of <c>initialize</c>.</summary>
public sealed record InitializeResult(ServerCapabilities Capabilities, ServerInfo ServerInfo);

/// <summary>Name and version of this server.</summary>
public sealed record ServerInfo(string Name, string? Version);

/// <summary>What this server offers.</summary>
public sealed record ServerCapabilities(
    TextDocumentSyncOptions TextDocumentSync,
    CodeLensOptions CodeLensProvider,
    ExecuteCommandOptions ExecuteCommandProvider);

/// <summary>How documents are synced (full text on every change).</summary>
public sealed record TextDocumentSyncOptions(bool OpenClose, TextDocumentSyncKind Change, SaveOptions Save);

/// <summary>LSP <c>TextDocumentSyncKind</c>.</summary>
public enum TextDocumentSyncKind
{
    /// <summary>No sync.</summary>
    None = 0,
    /// <summary>The whole text on every change.</summary>
    Full = 1,
    /// <summary>Incremental edits.</summary>
    Incremental = 2,
}

/// <summary>Save notification options.</summary>
public sealed record SaveOptions(bool IncludeText);

/// <summary>Code lens options.</summary>
public sealed record CodeLensOptions(bool ResolveProvider);

/// <summary>The commands <c>workspace/executeCommand</c> accepts.</summary>
public sealed record ExecuteCommandOptions(IReadOnlyList<string> Commands, bool WorkDoneProgress);

/// <summary>Params of <c>workspace/executeCommand</c>.</summary>
public sealed record ExecuteCommandParams(string Command, IReadOnlyList<JsonElement>? Arguments = null, JsonElement? WorkDoneToken = null);

/// <summary>Params of <c>workspace/didChangeConfiguration</c>.</summary>
public sealed record DidChangeConfigurationParams(JsonElement? Settings = null);

/// <summary>Params of <c>$/setTrace</c>.</summary>
public sealed record SetTraceParams(string Value);

/// <summary>Params of <c>textDocument/codeLens</c>.</summary>
public sealed record CodeLensParams(TextDocumentIdentifier TextDocument);

/// <summary>A code lens.</summary>
public sealed record CodeLens(Range Range, Command? Command = null);

/// <summary>A command a client can invoke through <c>workspace/executeCommand</c>.</summary>
public sealed record Command(string Title, [property: JsonPropertyName("command")] string Name, IReadOnlyList<object>? Arguments = null);

/// <summary>A diagnostic.</summary>
public sealed record Diagnostic(Range Range, DiagnosticSeverity Severity, string Message, string Source = "sandbox");

/// <summary>Params of <c>textDocument/publishDiagnostics</c>.</summary>
public sealed record PublishDiagnosticsParams(string Uri, IReadOnlyList<Diagnostic> Diagnostics, int? Version = null);

/// <summary>LSP <c>MessageType</c>.</summary>
public enum MessageType
{
    /// <summary>An error.</summary>
    Error = 1,
    /// <summary>A warning.</summary>
    Warning = 2,
    /// <summary>Information.</summary>
    Info = 3,
    /// <summary>A log line.</summary>
    Log = 4,
}

/// <summary>Params of <c>window/logMessage</c> and <c>window/showMessage</c>.</summary>
public sealed record MessageParams(MessageType Type, string Message);

/// <summary>Params of <c>window/workDoneProgress/create</c> and <c>window/workDoneProgress/cancel</c>.</summary>
public sealed record WorkDoneProgressTokenParams(JsonElement Token);

/// <summary>Params of <c>$/progress</c>.</summary>
public sealed record ProgressParams(JsonElement Token, object Value);

/// <summary>Start of a work-done progress.</summary>
public sealed record WorkDoneProgressBegin(string Title, bool Cancellable, string? Message = null, int? Percentage = null)
{
    /// <summary>Always <c>begin</c>.</summary>
    public string Kind => "begin";
}

/// <summary>A report of a work-done progress.</summary>
public sealed record WorkDoneProgressReport(string? Message = null, int? Percentage = null, bool? Cancellable = null)
{
    /// <summary>Always <c>report</c>.</summary>
    public string Kind => "report";
}

/// <summary>End of a work-done progress.</summary>
public sealed record WorkDoneProgressEnd(string? Message = null)
{
    /// <summary>Always <c>end</c>.</summary>
    public string Kind => "end";
}
