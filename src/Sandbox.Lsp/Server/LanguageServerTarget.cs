using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Features.CodeLens;
using Sandbox.Lsp.Features.Commands;
using Sandbox.Lsp.Features.Configuration;
using Sandbox.Lsp.Features.Logging;
using Sandbox.Lsp.Hosting;
using Sandbox.Lsp.Protocol;
using StreamJsonRpc;
using LspCodeLens = Sandbox.Lsp.Protocol.CodeLens;

namespace Sandbox.Lsp.Server;

/// <summary>The LSP methods of one session. Only methods with <see cref="JsonRpcMethodAttribute"/> are callable.</summary>
internal sealed class LanguageServerTarget(SessionContext session, LanguageServerSession owner)
{
    private readonly CommandHandler commands = new(session);
    private readonly CodeLensHandler codeLenses = new(session);
    private RunnerEndpoint? defaultFromInitialize;
    private SandboxSettings? lastIgnoredRunnerSettings;
    private volatile LifecycleState state;

    private enum LifecycleState
    {
        Created,
        Initialized,
        ShutDown,
    }

    /// <summary>Whether <c>shutdown</c> was received.</summary>
    public bool ShutdownReceived => state == LifecycleState.ShutDown;

    [JsonRpcMethod(LspMethods.Initialize, UseSingleObjectParameterDeserialization = true)]
    public async Task<InitializeResult> InitializeAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var request = LspJson.ReadParams<InitializeParams>(parameters, LspMethods.Initialize);
        if (state != LifecycleState.Created)
        {
            throw CommandHandler.Error(LspErrorCode.InvalidRequest, "initialize was already received");
        }

        session.ClientCreatesProgressTokens = request.Capabilities?.Window?.WorkDoneProgress == true;
        session.WorkspaceRoot = LocalPath(request.WorkspaceFolders?.FirstOrDefault()?.Uri) ?? LocalPath(request.RootUri) ?? request.RootPath;
        if (ClientLogger.ParseLevel(request.Trace) is { } traceLevel && request.Trace != "off")
        {
            session.Logger.ClientLevel = traceLevel;
        }

        await ApplySettingsAsync(request.InitializationOptions, "initializationOptions", cancellationToken);
        defaultFromInitialize = session.Runner.Endpoint;
        state = LifecycleState.Initialized;
        session.Logger.LogInformation("initialized by {Client} {Version}", request.ClientInfo?.Name ?? "a client", request.ClientInfo?.Version);
        return new InitializeResult(
            new ServerCapabilities(
                new TextDocumentSyncOptions(OpenClose: true, TextDocumentSyncKind.Full, new SaveOptions(IncludeText: false)),
                new CodeLensOptions(ResolveProvider: false),
                new ExecuteCommandOptions(SandboxCommands.All, WorkDoneProgress: true)),
            new ServerInfo("sandbox", session.Options.Version));
    }

    // Params-less methods accept (and ignore) whatever params a client sends: some send {} or [null].
    [JsonRpcMethod(LspMethods.Initialized)]
    public void Initialized(JsonElement? ignored = null)
    {
        if (state != LifecycleState.Initialized)
        {
            return;
        }

        // Connect now so a runner that is down is reported at start-up rather than at the first run.
        owner.StartBackground(ProbeRunnerAsync);
    }

    [JsonRpcMethod(LspMethods.Shutdown)]
    public async Task<object?> ShutdownAsync(JsonElement? ignored = null)
    {
        RequireInitialized();
        state = LifecycleState.ShutDown;
        await owner.StopAllRunsAsync();
        return null;
    }

    [JsonRpcMethod(LspMethods.Exit)]
    public void Exit(JsonElement? ignored = null) => owner.RequestExit(ShutdownReceived ? 0 : 1);

    [JsonRpcMethod(LspMethods.SetTrace, UseSingleObjectParameterDeserialization = true)]
    public void SetTrace(JsonElement parameters)
    {
        var request = LspJson.ReadParams<SetTraceParams>(parameters, LspMethods.SetTrace);
        if (ClientLogger.ParseLevel(request.Value) is { } level)
        {
            session.Logger.ClientLevel = level;
        }
    }

    [JsonRpcMethod(LspMethods.DidOpen, UseSingleObjectParameterDeserialization = true)]
    public void DidOpen(JsonElement parameters)
    {
        var request = LspJson.ReadParams<DidOpenTextDocumentParams>(parameters, LspMethods.DidOpen);
        if (IsServing())
        {
            var item = request.TextDocument;
            session.Documents.Open(item.Uri, item.LanguageId, item.Version, item.Text);
        }
    }

    [JsonRpcMethod(LspMethods.DidChange, UseSingleObjectParameterDeserialization = true)]
    public void DidChange(JsonElement parameters)
    {
        var request = LspJson.ReadParams<DidChangeTextDocumentParams>(parameters, LspMethods.DidChange);
        if (!IsServing() || request.ContentChanges is not { Count: > 0 } changes)
        {
            return;
        }

        // Full sync: the last change carries the whole text.
        var uri = request.TextDocument.Uri;
        if (session.Documents.Change(uri, request.TextDocument.Version, changes[^1].Text))
        {
            session.ClearDiagnostics(uri, request.TextDocument.Version);
        }
    }

    [JsonRpcMethod(LspMethods.DidSave, UseSingleObjectParameterDeserialization = true)]
    public void DidSave(JsonElement parameters)
    {
        var request = LspJson.ReadParams<DidSaveTextDocumentParams>(parameters, LspMethods.DidSave);
        if (IsServing() && request.Text is { } text)
        {
            session.Documents.Change(request.TextDocument.Uri, null, text);
        }
    }

    [JsonRpcMethod(LspMethods.DidClose, UseSingleObjectParameterDeserialization = true)]
    public void DidClose(JsonElement parameters)
    {
        var request = LspJson.ReadParams<DidCloseTextDocumentParams>(parameters, LspMethods.DidClose);
        if (IsServing())
        {
            session.Documents.Close(request.TextDocument.Uri);
            session.ClearDiagnostics(request.TextDocument.Uri, null);
        }
    }

    [JsonRpcMethod(LspMethods.DidChangeConfiguration, UseSingleObjectParameterDeserialization = true)]
    public async Task DidChangeConfigurationAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var request = LspJson.ReadParams<DidChangeConfigurationParams>(parameters, LspMethods.DidChangeConfiguration);
        if (IsServing())
        {
            await ApplySettingsAsync(request.Settings, "workspace/didChangeConfiguration", cancellationToken);
        }
    }

    [JsonRpcMethod(LspMethods.ExecuteCommand, UseSingleObjectParameterDeserialization = true)]
    public Task<object?> ExecuteCommandAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        RequireInitialized();
        var request = LspJson.ReadParams<ExecuteCommandParams>(parameters, LspMethods.ExecuteCommand);
        return commands.ExecuteAsync(request, cancellationToken);
    }

    [JsonRpcMethod(LspMethods.CodeLens, UseSingleObjectParameterDeserialization = true)]
    public Task<IReadOnlyList<LspCodeLens>> CodeLensAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        RequireInitialized();
        var request = LspJson.ReadParams<CodeLensParams>(parameters, LspMethods.CodeLens);
        return codeLenses.GetAsync(request, cancellationToken);
    }

    [JsonRpcMethod(LspMethods.WorkDoneProgressCancel, UseSingleObjectParameterDeserialization = true)]
    public Task WorkDoneProgressCancelAsync(JsonElement parameters, CancellationToken cancellationToken)
    {
        var request = LspJson.ReadParams<WorkDoneProgressTokenParams>(parameters, LspMethods.WorkDoneProgressCancel);
        return IsServing() ? commands.StopByProgressTokenAsync(request.Token.ToString(), cancellationToken) : Task.CompletedTask;
    }

    private async Task ApplySettingsAsync(JsonElement? raw, string origin, CancellationToken cancellationToken)
    {
        SandboxSettings settings;
        try
        {
            settings = SandboxSettings.Parse(raw);
        }
        catch (JsonException ex)
        {
            session.ShowMessage(MessageType.Warning, $"Sandbox: ignoring {origin}: {ex.Message}");
            return;
        }

        session.Settings = settings;
        if (settings.Trace is { } level)
        {
            session.Logger.ClientLevel = level;
        }

        if (session.RunnerChoice != ClientRunnerChoice.Allowed)
        {
            IgnoreRunnerSettings(settings);
            return;
        }

        var fallback = defaultFromInitialize ?? session.Options.DefaultRunner;
        var clientTokenFile = settings.TokenFile;
        if (clientTokenFile is not null && session.FileAccess != ServerFileAccess.Allowed)
        {
            // The runner factory would read that file on this machine and send its first line to the runner URL the
            // client chose: any file of the server could leave that way. (Only for a host that lets a client it does
            // not let read files choose the runner; LanguageServerHost's WebSocket sessions never get here.)
            session.ShowMessage(MessageType.Warning,
                "Sandbox: ignoring the sandbox.tokenFile setting: over WebSocket this server does not read its own files for clients; send sandbox.token instead");
            clientTokenFile = null;
        }

        var tokenFile = clientTokenFile ?? (settings.Token is { } token ? owner.WriteTokenFile(token) : null);
        // The server's own token (--token-file) goes only to the server's own runner: a client that may not read the
        // server's files and names another runner must bring its own token, or the server's would go where it points.
        var fallbackToken = session.FileAccess == ServerFileAccess.Allowed || settings.RunnerUrl is null || settings.RunnerUrl == fallback.Url
            ? fallback.TokenFile
            : null;
        var endpoint = settings.RunnerUrl is null && tokenFile is null
            ? fallback
            : new RunnerEndpoint(settings.RunnerUrl ?? fallback.Url, tokenFile ?? fallbackToken);
        if (await session.Runner.ReconfigureAsync(endpoint, cancellationToken) && state == LifecycleState.Initialized)
        {
            owner.StartBackground(ProbeRunnerAsync);
        }
    }

    /// <summary>
    /// For a session whose runner is the server's (WebSocket): tells the client that its runner settings are not used.
    /// Shown once per distinct value (editors resend every setting when any changes), logged every time.
    /// </summary>
    private void IgnoreRunnerSettings(SandboxSettings settings)
    {
        var sent = new List<string>();
        if (settings.RunnerUrl is not null)
        {
            sent.Add("sandbox.runnerUrl");
        }

        if (settings.Token is not null)
        {
            sent.Add("sandbox.token");
        }

        if (settings.TokenFile is not null)
        {
            sent.Add("sandbox.tokenFile");
        }

        if (sent.Count == 0)
        {
            lastIgnoredRunnerSettings = null;
            return;
        }

        var runnerPart = new SandboxSettings(settings.RunnerUrl, settings.TokenFile, settings.Token);

        var message = $"Sandbox: ignoring the {string.Join(", ", sent)} setting{(sent.Count > 1 ? "s" : "")}: over WebSocket the runner is fixed by " +
            "the server (set where it was started, `sandbox lsp --ws ... --runner URL`); runs go to that runner.";
        session.Logger.LogInformation("ignoring the client's runner settings ({Settings}): the runner is fixed by the server", string.Join(", ", sent));
        if (runnerPart != lastIgnoredRunnerSettings)
        {
            lastIgnoredRunnerSettings = runnerPart;
            session.ShowMessage(MessageType.Warning, message);
        }
    }

    private async Task ProbeRunnerAsync(CancellationToken cancellationToken)
    {
        try
        {
            var languages = await session.Runner.GetLanguagesAsync(cancellationToken);
            session.Logger.LogInformation("runner ready: {Languages}", string.Join(", ", languages.Select(l => l.Id)));
        }
        catch (RunnerUnavailableException ex)
        {
            session.ShowMessage(MessageType.Error, ex.Message);
        }
        catch (Exception ex) when (ex is RemoteInvocationException or Remote.Contract.SandboxRpcException)
        {
            session.ShowMessage(MessageType.Error, $"Sandbox: the runner refused to list its languages: {ex.Message}");
        }
    }

    private void RequireInitialized()
    {
        switch (state)
        {
            case LifecycleState.Created:
                throw CommandHandler.Error(LspErrorCode.ServerNotInitialized, "the server is not initialized yet (send initialize first)");
            case LifecycleState.ShutDown:
                throw CommandHandler.Error(LspErrorCode.InvalidRequest, "the server is shutting down (only exit is accepted)");
        }
    }

    // Notifications before initialize or after shutdown are dropped, as LSP asks.
    private bool IsServing() => state == LifecycleState.Initialized;

    private static string? LocalPath(string? uri) =>
        uri is not null && Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.IsFile ? parsed.LocalPath : null;
}
