namespace Sandbox.Lsp.Protocol;

/// <summary>LSP and Sandbox method names; keep in sync with editors/vscode/src/protocol.ts and docs/editors/.</summary>
public static class LspMethods
{
    public const string Initialize = "initialize";
    public const string Initialized = "initialized";
    public const string Shutdown = "shutdown";
    public const string Exit = "exit";
    public const string SetTrace = "$/setTrace";
    public const string Progress = "$/progress";
    public const string DidOpen = "textDocument/didOpen";
    public const string DidChange = "textDocument/didChange";
    public const string DidClose = "textDocument/didClose";
    public const string DidSave = "textDocument/didSave";
    public const string CodeLens = "textDocument/codeLens";
    public const string PublishDiagnostics = "textDocument/publishDiagnostics";
    public const string DidChangeConfiguration = "workspace/didChangeConfiguration";
    public const string ExecuteCommand = "workspace/executeCommand";
    public const string LogMessage = "window/logMessage";
    public const string ShowMessage = "window/showMessage";
    public const string WorkDoneProgressCreate = "window/workDoneProgress/create";
    public const string WorkDoneProgressCancel = "window/workDoneProgress/cancel";

    /// <summary>Server → client: a chunk of a run's output.</summary>
    public const string SandboxOutput = "sandbox/output";

    /// <summary>Server → client: one test's result during a check.</summary>
    public const string SandboxTestResult = "sandbox/testResult";
}

/// <summary>The <c>workspace/executeCommand</c> commands; keep in sync with editors/vscode/src/protocol.ts.</summary>
public static class SandboxCommands
{
    public const string Run = "sandbox.run";
    public const string Check = "sandbox.check";
    public const string Stop = "sandbox.stop";
    public const string ListProblems = "sandbox.listProblems";
    public const string ListLanguages = "sandbox.listLanguages";
    public const string Problem = "sandbox.problem";

    /// <summary>Every command, as advertised in <c>executeCommandProvider</c>.</summary>
    public static readonly IReadOnlyList<string> All = [Run, Check, Stop, ListProblems, ListLanguages, Problem];
}

/// <summary>
/// Error codes of this server's responses. JSON-RPC and LSP codes are negative; Sandbox's own are small positive
/// numbers (outside -32768..-32000), each with a message a user can act on.
/// </summary>
public enum LspErrorCode
{
    /// <summary>JSON-RPC: the request is not valid here (e.g. after <c>shutdown</c>).</summary>
    InvalidRequest = -32600,
    /// <summary>JSON-RPC: params missing or of the wrong shape.</summary>
    InvalidParams = -32602,
    /// <summary>LSP: a request arrived before <c>initialize</c>.</summary>
    ServerNotInitialized = -32002,
    /// <summary>LSP: the request was cancelled (by <c>$/cancelRequest</c>, <c>sandbox.stop</c> or a newer run of the document).</summary>
    RequestCancelled = -32800,
    /// <summary>The command names a document that is not open and not a readable file.</summary>
    UnknownDocument = 1,
    /// <summary>The language could not be told, or the runner does not offer it.</summary>
    UnknownLanguage = 2,
    /// <summary>The runner (embedded or remote) cannot be reached or cannot run code on this machine.</summary>
    RunnerUnavailable = 3,
    /// <summary><c>sandbox.check</c> without a problem argument or declaration.</summary>
    NoProblem = 4,
    /// <summary>The runner refused the request (unknown problem, limits above its maximum, ...).</summary>
    RunnerRefused = 5,
}

/// <summary>Params of the <c>sandbox/output</c> notification.</summary>
/// <param name="RunId">The run the output belongs to.</param>
/// <param name="Uri">The document that was run.</param>
/// <param name="Stream"><c>stdout</c>, <c>stderr</c> or <c>compile</c>.</param>
/// <param name="Text">The text as written.</param>
public sealed record SandboxOutputParams(string RunId, string Uri, Sandbox.Runner.Execution.OutputStreamKind Stream, string Text);

/// <summary>Params of the <c>sandbox/testResult</c> notification.</summary>
public sealed record SandboxTestResultParams(string RunId, string Uri, string Name, Sandbox.Runner.Judging.TestVerdict Verdict, long TimeMs);

/// <summary>The one argument object of every <c>sandbox.*</c> command.</summary>
/// <param name="Uri">The document (its synced text is what runs).</param>
/// <param name="Language">Language id or alias; by default from the document's languageId or extension.</param>
/// <param name="Stdin">Standard input; by default the <c>stdinFile</c> setting's content, else empty.</param>
/// <param name="Problem">Problem id (or path on the runner host) for <c>sandbox.check</c> and <c>sandbox.problem</c>; by default the file's <c>sandbox: problem=ID</c> comment.</param>
public sealed record SandboxCommandArguments(string? Uri = null, string? Language = null, string? Stdin = null, string? Problem = null);
