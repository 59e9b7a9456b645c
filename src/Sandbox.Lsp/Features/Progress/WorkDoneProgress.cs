using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Lsp.Protocol;
using Sandbox.Lsp.Server;
using StreamJsonRpc;

namespace Sandbox.Lsp.Features.Progress;

/// <summary>
/// One LSP work-done progress (<c>$/progress</c> begin/report/end), so clients without a Sandbox extension still show
/// that a run is going on. Uses the request's <c>workDoneToken</c> when given; otherwise creates a token with
/// <c>window/workDoneProgress/create</c> when the client announced <c>window.workDoneProgress</c>.
/// </summary>
internal sealed class WorkDoneProgress
{
    private readonly LanguageClient client;
    private readonly JsonElement token;
    private bool ended;

    private WorkDoneProgress(LanguageClient client, JsonElement token)
    {
        this.client = client;
        this.token = token;
    }

    /// <summary>The token as text (to match <c>window/workDoneProgress/cancel</c>).</summary>
    public string TokenText => token.ToString();

    /// <summary>Starts a progress; null when the client offers no way to show one.</summary>
    public static async Task<WorkDoneProgress?> BeginAsync(
        LanguageClient client,
        JsonElement? requestToken,
        bool clientCreatesTokens,
        string title,
        TimeSpan createTimeout,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        JsonElement token;
        if (requestToken is { ValueKind: JsonValueKind.String or JsonValueKind.Number } given)
        {
            token = given;
        }
        else if (clientCreatesTokens)
        {
            token = JsonSerializer.SerializeToElement("sandbox-" + Guid.NewGuid().ToString("N"));
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(createTimeout);
            try
            {
                // StreamJsonRpc answers a cancelled request's token by sending $/cancelRequest and then waits for the
                // client's answer, which a client that ignores the request never sends: stop waiting at the timeout.
                var created = client.RequestAsync<object?>(LspMethods.WorkDoneProgressCreate, new WorkDoneProgressTokenParams(token), timeout.Token);
                _ = created.ContinueWith(t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
                await created.WaitAsync(timeout.Token);
            }
            catch (Exception ex) when (ex is RemoteInvocationException or OperationCanceledException or ConnectionLostException
                                           && !cancellationToken.IsCancellationRequested)
            {
                logger.LogDebug("client refused window/workDoneProgress/create: {Reason}", ex.Message);
                return null;
            }
        }
        else
        {
            return null;
        }

        var progress = new WorkDoneProgress(client, token);
        client.Notify(LspMethods.Progress, new ProgressParams(token, new WorkDoneProgressBegin(title, Cancellable: true)));
        return progress;
    }

    public void Report(string message, int? percentage = null)
    {
        if (!ended)
        {
            client.Notify(LspMethods.Progress, new ProgressParams(token, new WorkDoneProgressReport(message, percentage)));
        }
    }

    public void End(string message)
    {
        if (!ended)
        {
            ended = true;
            client.Notify(LspMethods.Progress, new ProgressParams(token, new WorkDoneProgressEnd(message)));
        }
    }
}
