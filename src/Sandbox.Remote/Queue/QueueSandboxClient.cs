using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Sandbox.Remote.Client;
using Sandbox.Remote.Contract;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Queue;

/// <summary>
/// <see cref="ISandboxRpc"/> over a NATS JetStream work queue that runner hosts consume (<c>--runner nats://HOST:4222</c>).
/// Each run or check is published as one <see cref="QueueJob"/>; its output, test results and final result come back on
/// the job's own subject as they happen. When the host running a job dies, the job is delivered to another host and the
/// progress's <see cref="IRunAttemptObserver"/> is told the run started over; the client takes exactly one final result.
/// A full queue fails at once with <see cref="SandboxErrorCode.HostBusy"/>; a NATS server that cannot be reached, or goes
/// away while a job waits, fails with <see cref="SandboxConnectionException"/>.
/// </summary>
public sealed class QueueSandboxClient : ISandboxRpc, IAsyncDisposable
{
    private static readonly byte[] GoReply = Encoding.UTF8.GetBytes(QueueSubjects.Go);
    private static readonly byte[] GoneReply = Encoding.UTF8.GetBytes(QueueSubjects.Gone);

    private readonly QueueConnection connection;
    private readonly NatsConnection nats;
    private readonly NatsJSContext js;
    private readonly QueueSubjects subjects;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> byRunId = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, CancellationTokenSource> waiting = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> finishing = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource disposing = new();

    private QueueSandboxClient(QueueConnection connection, NatsConnection nats)
    {
        this.connection = connection;
        this.nats = nats;
        js = new NatsJSContext(nats);
        subjects = new QueueSubjects(connection.SubjectPrefix);
        nats.ConnectionDisconnected += OnDisconnectedAsync;
    }

    /// <summary>The queue's address (no credentials).</summary>
    public string Endpoint => connection.Display;

    /// <summary>Connects to the NATS server; a server that cannot be reached fails with <see cref="SandboxConnectionException"/>.</summary>
    public static async Task<QueueSandboxClient> ConnectAsync(QueueConnection connection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Validate("--runner");
        var nats = new NatsConnection(connection.ToNatsOpts($"sandbox-client-{Environment.MachineName}", retryForever: false));
        try
        {
            await nats.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or IOException)
        {
            await nats.DisposeAsync().ConfigureAwait(false);
            throw new SandboxConnectionException($"cannot connect to the queue at {connection.Display}: {Describe(ex)}", ex);
        }

        return new QueueSandboxClient(connection, nats);
    }

    /// <inheritdoc />
    public async Task<RunResult> RunAsync(RunParams request, IProgress<OutputEvent>? output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Language) || request.Source is null)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "run needs a language and a source");
        }

        var jobId = QueueJson.NewId();
        var final = await SubmitAsync(new QueueJob(jobId, QueueJobKind.Run, Run: request with { RunId = jobId }), request.RunId, output, null, cancellationToken).ConfigureAwait(false);
        var result = final.Event.RunResult ?? throw new SandboxRpcException(SandboxErrorCode.Internal, $"the runner host {final.Event.Host} sent a result without a run result (job {jobId})");
        if (final.Event.OutputElided)
        {
            // The result was too big for one message: its output is exactly what streamed.
            var (stdout, stderr) = (final.Stdout.WrittenMemory, final.Stderr.WrittenMemory);
            result = result with { Stdout = Encoding.UTF8.GetString(stdout.Span), Stderr = Encoding.UTF8.GetString(stderr.Span), StdoutBytes = stdout, StderrBytes = stderr };
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<CheckResult> CheckAsync(CheckParams request, IProgress<TestResult>? tests, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (string.IsNullOrWhiteSpace(request.Language) || request.Source is null)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "check needs a language and a source");
        }

        var jobId = QueueJson.NewId();
        var final = await SubmitAsync(new QueueJob(jobId, QueueJobKind.Check, Check: request with { RunId = jobId }), request.RunId, null, tests, cancellationToken).ConfigureAwait(false);
        return final.Event.CheckResult ?? throw new SandboxRpcException(SandboxErrorCode.Internal, $"the runner host {final.Event.Host} sent a result without a check result (job {jobId})");
    }

    /// <inheritdoc />
    public Task<CancelResult> CancelAsync(CancelParams request, CancellationToken cancellationToken)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.RunId))
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, "cancel needs the runId of a run this client started");
        }

        if (!byRunId.TryGetValue(request.RunId, out var job))
        {
            return Task.FromResult(new CancelResult(false));
        }

        try
        {
            job.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return Task.FromResult(new CancelResult(false));
        }

        return Task.FromResult(new CancelResult(true));
    }

    /// <inheritdoc />
    public Task<LanguagesResult> LanguagesAsync(CancellationToken cancellationToken) =>
        ApiAsync<LanguagesResult>("languages", null, cancellationToken);

    /// <inheritdoc />
    public Task<ProblemsResult> ProblemsAsync(CancellationToken cancellationToken) =>
        ApiAsync<ProblemsResult>("problems", null, cancellationToken);

    /// <inheritdoc />
    public Task<ProblemInfo> ProblemAsync(ProblemParams request, CancellationToken cancellationToken) =>
        ApiAsync<ProblemInfo>("problem", request, cancellationToken);

    /// <summary>Cancels every job still waiting (their hosts kill them) and closes the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposing.IsCancellationRequested)
        {
            return;
        }

        await disposing.CancelAsync().ConfigureAwait(false);
        // The jobs' own finally blocks publish their cancels; let them go out before the connection closes.
        try
        {
            await Task.WhenAll(finishing.Values).WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A cancel that could not go out: the host notices the missing client at its next ping.
        }

        nats.ConnectionDisconnected -= OnDisconnectedAsync;
        await nats.DisposeAsync().ConfigureAwait(false);
        disposing.Dispose();
    }

    private static string Describe(Exception ex) => ex.GetBaseException().Message;

    private async ValueTask OnDisconnectedAsync(object? sender, NatsEventArgs args)
    {
        // Every job waiting on this connection would otherwise wait for events that can no longer come.
        foreach (var job in waiting.Values)
        {
            try
            {
                await job.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                // It finished meanwhile.
            }
        }
    }

    private void EnsureConnected()
    {
        if (nats.ConnectionState != NatsConnectionState.Open)
        {
            throw new SandboxConnectionException($"the queue at {connection.Display} is unreachable (NATS connection {nats.ConnectionState.ToString().ToLowerInvariant()}); is the NATS server running?");
        }
    }

    private async Task<FinalEvent> SubmitAsync(
        QueueJob job,
        string? clientRunId,
        IProgress<OutputEvent>? output,
        IProgress<TestResult>? tests,
        CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposing.IsCancellationRequested, this);
        EnsureConnected();
        using var lost = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lost.Token, disposing.Token);
        if (clientRunId is not null && !byRunId.TryAdd(clientRunId, lost))
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"a run with id '{clientRunId}' is already going on this client");
        }

        waiting[job.JobId] = lost;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        finishing[job.JobId] = done.Task;
        var cancelledByClient = false;
        var finished = false;
        try
        {
            // Listen before publishing, so no event can come before the subscription exists.
            await using var events = await nats.SubscribeCoreAsync<byte[]>(subjects.Job(job.JobId), cancellationToken: linked.Token).ConfigureAwait(false);
            await PublishAsync(job, linked.Token).ConfigureAwait(false);
            var state = new FinalEvent();
            var observer = (output as IRunAttemptObserver) ?? (tests as IRunAttemptObserver);
            // Set once the queue's last delivery of the job has started: if that host goes quiet, no other will take
            // the job, and waiting on would be forever.
            TimeSpan? lastChance = null;
            while (true)
            {
                var message = await NextEventAsync(events.Msgs, lastChance, job, state.Attempt, linked.Token).ConfigureAwait(false);
                var evt = TryRead(message.Data);
                if (evt is null)
                {
                    continue;
                }

                switch (evt.Kind)
                {
                    case QueueEventKind.Started:
                        if (evt.Attempt < state.Attempt)
                        {
                            await ReplyAsync(message, GoneReply).ConfigureAwait(false);
                            break;
                        }

                        if (evt.Attempt > state.Attempt)
                        {
                            state.Attempt = evt.Attempt;
                            state.Stdout.ResetWrittenCount();
                            state.Stderr.ResetWrittenCount();
                            observer?.AttemptStarted(new RunAttempt(evt.Attempt, evt.Host));
                            // A running host pings every third of the ack wait: two ack waits (and some slack) without a
                            // word from the last one the queue will try means it is gone.
                            lastChance = evt.Deliveries is { } deliveries && evt.Attempt >= deliveries && evt.AckWaitSeconds is > 0 and { } ackWait
                                ? TimeSpan.FromSeconds((2 * ackWait) + 5)
                                : null;
                        }

                        await ReplyAsync(message, GoReply).ConfigureAwait(false);
                        break;
                    case QueueEventKind.Ping:
                        await ReplyAsync(message, evt.Attempt == state.Attempt ? GoReply : GoneReply).ConfigureAwait(false);
                        break;
                    case QueueEventKind.Output when evt.Attempt == state.Attempt && evt.Output is { } chunk:
                        (chunk.Stream == OutputStreamKind.Stdout ? state.Stdout : chunk.Stream == OutputStreamKind.Stderr ? state.Stderr : null)?.Write(chunk.GetBytes().Span);
                        output?.Report(chunk);
                        break;
                    case QueueEventKind.Test when evt.Attempt == state.Attempt && evt.Test is { } test:
                        tests?.Report(test);
                        break;
                    case QueueEventKind.Result or QueueEventKind.Error:
                        if (evt.Attempt != state.Attempt)
                        {
                            await ReplyAsync(message, GoneReply).ConfigureAwait(false);
                            break;
                        }

                        await ReplyAsync(message, GoReply).ConfigureAwait(false);
                        finished = true;
                        if (evt.Kind == QueueEventKind.Error)
                        {
                            var code = evt.Code ?? SandboxErrorCode.Internal;
                            if (code == SandboxErrorCode.Cancelled)
                            {
                                throw new OperationCanceledException(evt.Message ?? "the run was cancelled");
                            }

                            throw new SandboxRpcException(code, evt.Message ?? $"the runner host {evt.Host} failed (job {job.JobId})");
                        }

                        state.Event = evt;
                        return state;
                    default:
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !disposing.IsCancellationRequested && !finished)
        {
            if (nats.ConnectionState != NatsConnectionState.Open)
            {
                throw new SandboxConnectionException($"lost the connection to the queue at {connection.Display} while job {job.JobId} was waiting; the NATS server stopped or the network dropped");
            }

            cancelledByClient = true;
            throw new OperationCanceledException($"run '{clientRunId}' was cancelled");
        }
        catch (OperationCanceledException) when (!finished)
        {
            cancelledByClient = true;
            throw;
        }
        finally
        {
            waiting.TryRemove(job.JobId, out _);
            if (clientRunId is not null)
            {
                byRunId.TryRemove(new KeyValuePair<string, CancellationTokenSource>(clientRunId, lost));
            }

            if (cancelledByClient && nats.ConnectionState == NatsConnectionState.Open)
            {
                await SendCancelAsync(job.JobId).ConfigureAwait(false);
            }

            finishing.TryRemove(job.JobId, out _);
            done.TrySetResult();
        }
    }

    /// <summary>
    /// The job's next event. With <paramref name="quietLimit"/> (the queue's last delivery is running), a silence that
    /// long means the host died with the job and none will take it again: the run fails instead of waiting forever.
    /// </summary>
    private async Task<NatsMsg<byte[]>> NextEventAsync(ChannelReader<NatsMsg<byte[]>> events, TimeSpan? quietLimit, QueueJob job, int attempt, CancellationToken cancellationToken)
    {
        if (quietLimit is not { } limit)
        {
            return await ReadAsync(events, job, cancellationToken).ConfigureAwait(false);
        }

        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        quiet.CancelAfter(limit);
        try
        {
            return await ReadAsync(events, job, quiet.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (quiet.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new SandboxRpcException(
                SandboxErrorCode.Internal,
                $"job {job.JobId} was given up: the queue delivered it {attempt} times and each runner host that took it stopped while running it (nothing heard for {limit.TotalSeconds:0} s); see those hosts' logs");
        }
    }

    private async Task<NatsMsg<byte[]>> ReadAsync(ChannelReader<NatsMsg<byte[]>> events, QueueJob job, CancellationToken cancellationToken)
    {
        try
        {
            return await events.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw new SandboxConnectionException($"the queue at {connection.Display} closed the job's subscription (job {job.JobId})");
        }
    }

    private async Task PublishAsync(QueueJob job, CancellationToken cancellationToken)
    {
        var payload = QueueJson.Serialize(job);
        var maxPayload = nats.ServerInfo?.MaxPayload ?? 1024 * 1024;
        if (payload.Length > maxPayload)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"the job is {payload.Length / 1024} KiB; the queue at {connection.Display} takes at most {maxPayload / 1024} KiB");
        }

        try
        {
            // The job id doubles as the stream's de-duplication id, so a retried publish never makes a second job.
            var ack = await js.PublishAsync(subjects.Jobs, payload, opts: new NatsJSPubOpts { MsgId = job.JobId, RetryAttempts = 1 }, cancellationToken: cancellationToken).ConfigureAwait(false);
            ack.EnsureSuccess();
        }
        catch (NatsJSApiException ex) when (IsFull(ex.Error.ErrCode, ex.Error.Description))
        {
            throw new SandboxRpcException(SandboxErrorCode.HostBusy, $"the queue at {connection.Display} is full ({ex.Error.Description}); try again in a moment");
        }
        catch (NatsJSApiException ex) when (ex.Error.Description?.Contains("size", StringComparison.OrdinalIgnoreCase) == true)
        {
            throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"the job is too large for the queue at {connection.Display} ({ex.Error.Description}); shorten the source or stdin");
        }
        catch (NatsJSApiException ex)
        {
            throw new SandboxConnectionException($"the queue at {connection.Display} refused the job: {ex.Error.Description}", ex);
        }
        catch (NatsJSPublishNoResponseException ex)
        {
            throw new SandboxConnectionException($"the queue at {connection.Display} has no job stream yet: start a runner host with `sandbox host --queue {connection.Display}` first", ex);
        }
        catch (NatsNoRespondersException ex)
        {
            throw new SandboxConnectionException($"the queue at {connection.Display} has no job stream yet: start a runner host with `sandbox host --queue {connection.Display}` first", ex);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new SandboxConnectionException($"could not publish to the queue at {connection.Display}: {Describe(ex)}", ex);
        }
    }

    /// <summary>JetStream's "maximum messages exceeded" (10077), "maximum bytes exceeded" (10047) and their descriptions.</summary>
    private static bool IsFull(int errCode, string? description) =>
        errCode is 10077 or 10047 or 10028
        || (description?.Contains("maximum messages", StringComparison.OrdinalIgnoreCase) ?? false)
        || (description?.Contains("maximum bytes", StringComparison.OrdinalIgnoreCase) ?? false);

    private async Task SendCancelAsync(string jobId)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await nats.PublishAsync(subjects.Cancel(jobId), Array.Empty<byte>(), cancellationToken: timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection is gone: the host notices the missing client on its next ping and kills the run.
        }
    }

    private static async Task ReplyAsync(NatsMsg<byte[]> message, byte[] reply)
    {
        try
        {
            await message.ReplyAsync(reply).ConfigureAwait(false);
        }
        catch (NatsException)
        {
            // The host asks again (pings) or gives up on its own timeout.
        }
    }

    private static QueueEvent? TryRead(byte[]? data)
    {
        try
        {
            return QueueJson.Deserialize<QueueEvent>(data);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private async Task<T> ApiAsync<T>(string method, object? request, CancellationToken cancellationToken)
    {
        EnsureConnected();
        NatsMsg<byte[]> reply;
        try
        {
            reply = await nats.RequestAsync<byte[], byte[]>(
                subjects.Api(method),
                request is null ? [] : QueueJson.Serialize(request),
                replyOpts: new NatsSubOpts { Timeout = TimeSpan.FromSeconds(10) },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (NatsNoRespondersException ex)
        {
            throw new SandboxConnectionException($"no runner host is listening on the queue at {connection.Display} (start one with `sandbox host --queue {connection.Display}`)", ex);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            throw new SandboxConnectionException($"no answer from the runner hosts on the queue at {connection.Display} to '{method}': {Describe(ex)}", ex);
        }

        if (reply.HasNoResponders)
        {
            throw new SandboxConnectionException($"no runner host is listening on the queue at {connection.Display} (start one with `sandbox host --queue {connection.Display}`)");
        }

        var answer = QueueJson.Deserialize<QueueApiReply>(reply.Data)
            ?? throw new SandboxConnectionException($"a runner host sent an empty answer to '{method}'");
        if (answer.Code is { } code)
        {
            throw new SandboxRpcException(code, answer.Message ?? code.ToString());
        }

        return answer.Result is { } result
            ? result.Deserialize<T>(QueueJson.Options) ?? throw new SandboxConnectionException($"a runner host sent an empty answer to '{method}'")
            : throw new SandboxConnectionException($"a runner host sent an empty answer to '{method}'");
    }

    /// <summary>A job's progress: its current attempt, what streamed in it, and the final event.</summary>
    private sealed class FinalEvent
    {
        public int Attempt { get; set; }

        // Bytes, not text: the chunks' bytes concatenated are the stream's, which their text would not say when it is not UTF-8.
        public ArrayBufferWriter<byte> Stdout { get; } = new();

        public ArrayBufferWriter<byte> Stderr { get; } = new();

        public QueueEvent Event { get; set; } = null!;
    }
}
