using System.Text.Json;
using Sandbox.Lsp.Protocol;
using StreamJsonRpc;

namespace Sandbox.Lsp.Tests.Infrastructure;

/// <summary>A message the server sent to the client.</summary>
internal sealed record ServerMessage(string Method, JsonElement Params);

/// <summary>The test's LSP client: sends requests and records everything the server sends.</summary>
internal sealed class LspTestClient : IAsyncDisposable
{
    private readonly List<ServerMessage> received = [];
    private readonly Microsoft.VisualStudio.Threading.NonConcurrentSynchronizationContext dispatch = new(sticky: false);
    private TaskCompletionSource changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LspTestClient(IJsonRpcMessageHandler handler, CancellationToken timeout)
    {
        Timeout = timeout;
        // Notifications are handled in arrival order on this context; SettleAsync waits behind them.
        Rpc = new JsonRpc(handler) { SynchronizationContext = dispatch };
        var target = new ClientTarget(this);
        Rpc.AddLocalRpcTarget(target);
        Rpc.StartListening();
    }

    public JsonRpc Rpc { get; }

    public CancellationToken Timeout { get; }

    /// <summary>Whether the client answers <c>window/workDoneProgress/create</c> with success.</summary>
    public bool AcceptProgressCreate { get; set; } = true;

    /// <summary>Whether the client never answers <c>window/workDoneProgress/create</c> (not even after <c>$/cancelRequest</c>).</summary>
    public bool IgnoreProgressCreate { get; set; }

    public IReadOnlyList<ServerMessage> Received
    {
        get
        {
            lock (received)
            {
                return [.. received];
            }
        }
    }

    public IEnumerable<JsonElement> Notifications(string method) => Received.Where(m => m.Method == method).Select(m => m.Params);

    public Task<JsonElement> InitializeAsync(object? initializationOptions = null, bool workDoneProgress = false)
        => InitializeCoreAsync(initializationOptions, workDoneProgress);

    /// <summary>
    /// Sends a request; when it returns, every notification the server sent before the response has been recorded
    /// (the server puts them on the wire first; the client may dispatch them after the response completes).
    /// </summary>
    public async Task<JsonElement> RequestAsync(string method, object? parameters, CancellationToken? cancellationToken = null)
    {
        try
        {
            return await Rpc.InvokeWithParameterObjectAsync<JsonElement>(method, parameters, cancellationToken ?? Timeout).WaitAsync(Timeout);
        }
        finally
        {
            await SettleAsync();
        }
    }

    /// <summary>Waits until every message dispatched so far has been handled.</summary>
    public Task SettleAsync()
    {
        var settled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatch.Post(_ => settled.TrySetResult(), null);
        return settled.Task.WaitAsync(Timeout);
    }

    public Task NotifyAsync(string method, object? parameters) => Rpc.NotifyWithParameterObjectAsync(method, parameters).WaitAsync(Timeout);

    public Task OpenAsync(string uri, string? languageId, string text, int version = 1)
        => NotifyAsync(LspMethods.DidOpen, new { textDocument = new { uri, languageId, version, text } });

    public Task ChangeAsync(string uri, string text, int version)
        => NotifyAsync(LspMethods.DidChange, new { textDocument = new { uri, version }, contentChanges = new[] { new { text } } });

    public Task<JsonElement> ExecuteAsync(string command, object? argument = null, object? workDoneToken = null, CancellationToken? cancellationToken = null)
        => RequestAsync(LspMethods.ExecuteCommand, new { command, arguments = argument is null ? Array.Empty<object>() : [argument], workDoneToken }, cancellationToken);

    /// <summary>Waits (bounded by the test timeout) for a message matching the predicate, including ones already received.</summary>
    public async Task<JsonElement> WaitForAsync(string method, Func<JsonElement, bool>? predicate = null)
    {
        while (true)
        {
            Task signal;
            lock (received)
            {
                foreach (var message in received)
                {
                    if (message.Method == method && (predicate is null || predicate(message.Params)))
                    {
                        return message.Params;
                    }
                }

                signal = changed.Task;
            }

            await signal.WaitAsync(Timeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Rpc.Dispose();
        try
        {
            await Rpc.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is not TimeoutException)
        {
            // The connection ending with an error is fine when a test broke it on purpose.
        }
    }

    private void Record(string method, JsonElement parameters)
    {
        lock (received)
        {
            received.Add(new ServerMessage(method, parameters.Clone()));
            var previous = changed;
            changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            previous.TrySetResult();
        }
    }

    private async Task<JsonElement> InitializeCoreAsync(object? initializationOptions, bool workDoneProgress)
    {
        var result = await RequestAsync(LspMethods.Initialize, new
        {
            processId = (int?)null,
            rootUri = (string?)null,
            clientInfo = new { name = "test-client" },
            capabilities = new { window = new { workDoneProgress } },
            initializationOptions,
        });
        await NotifyAsync(LspMethods.Initialized, new { });
        return result;
    }

    private sealed class ClientTarget(LspTestClient owner)
    {
        [JsonRpcMethod(LspMethods.SandboxOutput, UseSingleObjectParameterDeserialization = true)]
        public void Output(JsonElement p) => owner.Record(LspMethods.SandboxOutput, p);

        [JsonRpcMethod(LspMethods.SandboxTestResult, UseSingleObjectParameterDeserialization = true)]
        public void TestResult(JsonElement p) => owner.Record(LspMethods.SandboxTestResult, p);

        [JsonRpcMethod(LspMethods.Progress, UseSingleObjectParameterDeserialization = true)]
        public void Progress(JsonElement p) => owner.Record(LspMethods.Progress, p);

        [JsonRpcMethod(LspMethods.LogMessage, UseSingleObjectParameterDeserialization = true)]
        public void LogMessage(JsonElement p) => owner.Record(LspMethods.LogMessage, p);

        [JsonRpcMethod(LspMethods.ShowMessage, UseSingleObjectParameterDeserialization = true)]
        public void ShowMessage(JsonElement p) => owner.Record(LspMethods.ShowMessage, p);

        [JsonRpcMethod(LspMethods.PublishDiagnostics, UseSingleObjectParameterDeserialization = true)]
        public void PublishDiagnostics(JsonElement p) => owner.Record(LspMethods.PublishDiagnostics, p);

        [JsonRpcMethod(LspMethods.WorkDoneProgressCreate, UseSingleObjectParameterDeserialization = true)]
        public async Task<object?> CreateProgressAsync(JsonElement p)
        {
            owner.Record(LspMethods.WorkDoneProgressCreate, p);
            if (owner.IgnoreProgressCreate)
            {
                await Task.Delay(System.Threading.Timeout.Infinite, owner.Timeout);
            }

            return owner.AcceptProgressCreate ? null : throw new LocalRpcException("refused") { ErrorCode = -32603 };
        }
    }
}
