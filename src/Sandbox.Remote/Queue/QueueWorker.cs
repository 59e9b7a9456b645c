using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Sandbox.Remote.Contract;
using Sandbox.Remote.InProcess;
using Sandbox.Remote.Server;
using Sandbox.Runner.Execution;
using Sandbox.Runner.Judging;

namespace Sandbox.Remote.Queue;

/// <summary>
/// Makes a runner host a consumer of the shared work queue. It pulls only as many jobs as it has free slots (one pull per
/// idle slot), tells the job's client it started (a client that is gone or has moved on gets nothing run), streams output
/// and test results on the job's subject, sends progress while a job runs so it is not redelivered, asks the client now and
/// then whether it still waits (no answer: the run is killed), and acknowledges the job once the client has its final result.
/// On SIGTERM it drains: no new pulls, running jobs finish, and a job still running at the drain timeout goes back to the queue.
/// </summary>
internal sealed class QueueWorker : BackgroundService, IMetricsContributor
{
    private static readonly TimeSpan PullExpiry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(5);

    private readonly QueueHostOptions options;
    private readonly QueueSubjects subjects;
    private readonly InProcessSandboxRpc rpc;
    private readonly EngineLifecycle lifecycle;
    private readonly ICodeRunner runner;
    private readonly SandboxRpcOptions rpcOptions;
    private readonly ILogger<QueueWorker> logger;
    private readonly ConcurrentDictionary<string, CancellationTokenSource> running = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource hardStop = new();
    private readonly ConcurrentDictionary<string, long> outcomes = new(StringComparer.Ordinal);
    private volatile bool draining;
    private NatsConnection? nats;
    private NatsJSContext? js;
    private int busy;
    private int slots;

    public QueueWorker(
        QueueHostOptions options,
        InProcessSandboxRpc rpc,
        EngineLifecycle lifecycle,
        ICodeRunner runner,
        IOptions<SandboxRpcOptions> rpcOptions,
        ILogger<QueueWorker> logger)
    {
        this.options = options;
        subjects = new QueueSubjects(options.Connection.SubjectPrefix);
        this.rpc = rpc;
        this.lifecycle = lifecycle;
        this.runner = runner;
        this.rpcOptions = rpcOptions.Value;
        this.logger = logger;
    }

    /// <summary>Stops pulling, lets running jobs finish within <paramref name="cancellationToken"/> (the host's shutdown timeout), then returns the rest to the queue.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        draining = true;
        logger.LogInformation("Draining: taking no new jobs, finishing {Running} running", running.Count);
        using var timedOut = cancellationToken.Register(hardStop.Cancel);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        hardStop.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    public async Task WriteMetricsAsync(StringBuilder text, CancellationToken cancellationToken)
    {
        var host = Escape(options.HostId);
        Gauge(text, "sandbox_shared_queue_host_slots", "Slots this host gives to queue jobs.", $"{{host=\"{host}\"}}", Volatile.Read(ref slots));
        Gauge(text, "sandbox_shared_queue_host_busy_slots", "Queue jobs running on this host now.", $"{{host=\"{host}\"}}", Volatile.Read(ref busy));
        Gauge(text, "sandbox_shared_queue_connected", "1 while this host is connected to the queue's NATS server.", $"{{host=\"{host}\"}}", nats?.ConnectionState == NatsConnectionState.Open ? 1 : 0);
        text.Append("# HELP sandbox_shared_queue_jobs_total Queue jobs this host took, by outcome.\n# TYPE sandbox_shared_queue_jobs_total counter\n");
        foreach (var (outcome, count) in outcomes.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            text.Append(CultureInfo.InvariantCulture, $"sandbox_shared_queue_jobs_total{{host=\"{host}\",outcome=\"{outcome}\"}} {count}\n");
        }

        if (js is null || nats?.ConnectionState != NatsConnectionState.Open)
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            var consumer = await js.GetConsumerAsync(subjects.Stream, subjects.Consumer, timeout.Token).ConfigureAwait(false);
            var info = consumer.Info;
            double oldest = 0;
            if (info.NumPending > 0)
            {
                var stream = await js.GetStreamAsync(subjects.Stream, cancellationToken: timeout.Token).ConfigureAwait(false);
                var next = await stream.GetAsync(new StreamMsgGetRequest { Seq = info.Delivered.StreamSeq + 1, NextBySubj = subjects.Jobs }, timeout.Token).ConfigureAwait(false);
                oldest = Math.Max(0, (DateTimeOffset.UtcNow - next.Message.Time).TotalSeconds);
            }

            Gauge(text, "sandbox_shared_queue_depth", "Jobs waiting in the shared queue for a host (all hosts).", "", (long)info.NumPending);
            Gauge(text, "sandbox_shared_queue_running", "Jobs taken by a host and not yet acknowledged (all hosts).", "", info.NumAckPending);
            Gauge(text, "sandbox_shared_queue_redelivered", "Jobs being delivered again after a host went quiet (all hosts).", "", info.NumRedelivered);
            text.Append(CultureInfo.InvariantCulture, $"# HELP sandbox_shared_queue_oldest_waiting_seconds Age of the oldest job waiting for a host.\n# TYPE sandbox_shared_queue_oldest_waiting_seconds gauge\nsandbox_shared_queue_oldest_waiting_seconds {oldest:0.###}\n");
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException or TimeoutException)
        {
            logger.LogDebug("Queue metrics unavailable: {Reason}", ex.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await lifecycle.Ready.WaitAsync(stoppingToken).ConfigureAwait(false);
            slots = rpcOptions.Slots ?? Math.Max(1, runner.Slots);
            nats = await ConnectAsync(stoppingToken).ConfigureAwait(false);
            js = new NatsJSContext(nats);
            var consumer = await EnsureQueueAsync(stoppingToken).ConfigureAwait(false);
            logger.LogInformation("Consuming the queue at {Queue} with {Slots} slots as {Host}", options.Connection.Display, slots, options.HostId);
            // Cancels must reach running jobs until the last one is done, drain included; metadata requests stop with the drain.
            using var listening = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
            var cancels = ListenForCancelsAsync(nats, listening.Token);
            var metadata = AnswerMetadataAsync(nats, stoppingToken);
            var holder = new ConsumerHolder(consumer);
            var loops = Enumerable.Range(0, slots).Select(_ => SlotLoopAsync(holder, stoppingToken)).ToList();
            await Task.WhenAll(loops).ConfigureAwait(false);
            await listening.CancelAsync().ConfigureAwait(false);
            await Task.WhenAll(cancels, metadata).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped before the queue was reached.
        }
        finally
        {
            if (nats is not null)
            {
                await nats.DisposeAsync().ConfigureAwait(false);
            }

            logger.LogInformation("Left the queue");
        }
    }

    private async Task<NatsConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            var connection = new NatsConnection(options.Connection.ToNatsOpts($"sandbox-host-{options.HostId}", retryForever: false));
            try
            {
                await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
                connection.ConnectionDisconnected += (_, _) =>
                {
                    logger.LogWarning("Lost the queue at {Queue}; reconnecting (running jobs carry on)", options.Connection.Display);
                    return ValueTask.CompletedTask;
                };
                connection.ConnectionOpened += (_, _) =>
                {
                    logger.LogInformation("Connected to the queue at {Queue}", options.Connection.Display);
                    return ValueTask.CompletedTask;
                };
                return connection;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException or IOException)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                if (attempt == 1 || attempt % 30 == 0)
                {
                    logger.LogWarning("Cannot reach the queue at {Queue} ({Reason}); retrying", options.Connection.Display, ex.GetBaseException().Message);
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    /// <summary>Creates or updates the stream and the shared consumer; retried until it works or the host stops.</summary>
    private async Task<INatsJSConsumer> EnsureQueueAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await js!.CreateOrUpdateStreamAsync(
                    new StreamConfig(subjects.Stream, [subjects.Jobs])
                    {
                        Retention = StreamConfigRetention.Workqueue,
                        Storage = StreamConfigStorage.File,
                        MaxMsgs = options.MaxPending,
                        MaxMsgSize = options.MaxJobBytes,
                        // A full queue refuses new jobs (the client gets host-busy) rather than dropping old ones.
                        Discard = StreamConfigDiscard.New,
                        DuplicateWindow = TimeSpan.FromMinutes(2),
                    },
                    cancellationToken).ConfigureAwait(false);
                return await js.CreateOrUpdateConsumerAsync(
                    subjects.Stream,
                    new ConsumerConfig(subjects.Consumer)
                    {
                        DurableName = subjects.Consumer,
                        AckPolicy = ConsumerConfigAckPolicy.Explicit,
                        AckWait = options.AckWait,
                        MaxDeliver = options.MaxDeliver,
                        MaxAckPending = -1,
                    },
                    cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                if (attempt == 1 || attempt % 30 == 0)
                {
                    logger.LogWarning("Cannot set up the job stream on {Queue} ({Reason}); retrying", options.Connection.Display, ex.Message);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task SlotLoopAsync(ConsumerHolder holder, CancellationToken stoppingToken)
    {
        var failing = false;
        while (!draining && !stoppingToken.IsCancellationRequested)
        {
            INatsJSMsg<byte[]>? next;
            try
            {
                // One pull for one job: this slot is free now, and takes nothing more until the job is done.
                // Not cancelled by the stop signal: a pull in flight finishes (at most PullExpiry) and a job it brings is handed back.
                next = await holder.Consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = PullExpiry }, cancellationToken: hardStop.Token).ConfigureAwait(false);
                failing = false;
            }
            catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException or InvalidOperationException)
            {
                if (!failing)
                {
                    logger.LogWarning("Pulling from the queue failed ({Reason}); retrying", ex.Message);
                    failing = true;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), hardStop.Token).ConfigureAwait(false);
                await holder.RefreshAsync(this, hardStop.Token).ConfigureAwait(false);
                continue;
            }

            if (next is not { } message)
            {
                continue;
            }

            if (draining)
            {
                await TryAsync(() => message.NakAsync(cancellationToken: CancellationToken.None)).ConfigureAwait(false);
                break;
            }

            await HandleAsync(message).ConfigureAwait(false);
        }
    }

    private async Task HandleAsync(INatsJSMsg<byte[]> message)
    {
        var attempt = (int)Math.Min(int.MaxValue, message.Metadata?.NumDelivered ?? 1);
        var job = ReadJob(message.Data);
        if (job is null)
        {
            logger.LogWarning("Dropped a malformed job from the queue ({Bytes} bytes)", message.Data?.Length ?? 0);
            Count("malformed");
            await TryAsync(() => message.AckTerminateAsync(cancellationToken: CancellationToken.None)).ConfigureAwait(false);
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["RunId"] = job.JobId });
        using var run = CancellationTokenSource.CreateLinkedTokenSource(hardStop.Token);
        if (!running.TryAdd(job.JobId, run))
        {
            // Delivered to this host again while it still runs it: the running one acknowledges it.
            return;
        }

        Interlocked.Increment(ref busy);
        try
        {
            var subject = subjects.Job(job.JobId);
            if (await AskAsync(subject, new QueueEvent(QueueEventKind.Started, attempt, options.HostId, Deliveries: options.MaxDeliver, AckWaitSeconds: options.AckWait.TotalSeconds), CancellationToken.None).ConfigureAwait(false) != Answer.Go)
            {
                // The client cancelled, went away, or another host already finished it.
                logger.LogInformation("Job {JobId} dropped: its client no longer waits for it", job.JobId);
                Count("client-gone");
                await TryAsync(() => message.AckAsync(cancellationToken: CancellationToken.None)).ConfigureAwait(false);
                return;
            }

            if (attempt > 1)
            {
                logger.LogInformation("Job {JobId} restarted here (delivery {Attempt})", job.JobId, attempt);
                Count("restarted");
            }

            var final = await RunAsync(job, message, attempt, run).ConfigureAwait(false);
            if (final is null)
            {
                // The drain timed out: hand the job back at once rather than after the ack wait.
                await TryAsync(() => message.NakAsync(cancellationToken: CancellationToken.None)).ConfigureAwait(false);
                Count("returned");
                return;
            }

            var answer = await AskAsync(subject, final, CancellationToken.None).ConfigureAwait(false);
            if (answer == Answer.NoConnection)
            {
                // The result may not have reached the client: leave the job unacknowledged so it runs again.
                logger.LogWarning("Job {JobId}: could not hand over the result; the queue will deliver it again", job.JobId);
                Count("unacknowledged");
                return;
            }

            await TryAsync(() => message.AckAsync(cancellationToken: CancellationToken.None)).ConfigureAwait(false);
            Count(final.Kind == QueueEventKind.Error ? "error" : "done");
        }
        finally
        {
            Interlocked.Decrement(ref busy);
            running.TryRemove(new KeyValuePair<string, CancellationTokenSource>(job.JobId, run));
        }
    }

    /// <summary>Runs the job, streaming its events in order; null when the host's drain timed out.</summary>
    private async Task<QueueEvent?> RunAsync(QueueJob job, INatsJSMsg<byte[]> message, int attempt, CancellationTokenSource run)
    {
        var subject = subjects.Job(job.JobId);
        var events = Channel.CreateUnbounded<QueueEvent>(new UnboundedChannelOptions { SingleReader = true });
        var pump = PumpAsync(subject, events.Reader);
        using var stopTicking = new CancellationTokenSource();
        var ticker = KeepAliveAsync(message, subject, attempt, run, stopTicking.Token);
        QueueEvent final;
        try
        {
            if (job.Kind == QueueJobKind.Run)
            {
                var request = job.Run! with { RunId = job.JobId, Limits = Clamp(job.Run!.Limits) };
                var output = new Relay<OutputEvent>(chunk => events.Writer.TryWrite(new QueueEvent(QueueEventKind.Output, attempt, options.HostId, Output: chunk)));
                var result = await rpc.RunAsync(request, output, QueueClient, run.Token).ConfigureAwait(false);
                final = Fit(new QueueEvent(QueueEventKind.Result, attempt, options.HostId, RunResult: result));
            }
            else
            {
                var request = job.Check! with { RunId = job.JobId, Limits = Clamp(job.Check!.Limits) };
                var tests = new Relay<TestResult>(test => events.Writer.TryWrite(new QueueEvent(QueueEventKind.Test, attempt, options.HostId, Test: test)));
                var result = await rpc.CheckAsync(request, tests, QueueClient, run.Token).ConfigureAwait(false);
                final = new QueueEvent(QueueEventKind.Result, attempt, options.HostId, CheckResult: result);
            }
        }
        catch (SandboxRpcException ex)
        {
            final = new QueueEvent(QueueEventKind.Error, attempt, options.HostId, Code: ex.Code, Message: ex.Message);
        }
        catch (OperationCanceledException) when (hardStop.IsCancellationRequested)
        {
            return null;
        }
        catch (OperationCanceledException) when (run.IsCancellationRequested)
        {
            logger.LogInformation("Job {JobId} cancelled by its client", job.JobId);
            final = new QueueEvent(QueueEventKind.Error, attempt, options.HostId, Code: SandboxErrorCode.Cancelled, Message: "the run was cancelled");
        }
        finally
        {
            events.Writer.TryComplete();
            await pump.ConfigureAwait(false);
            await stopTicking.CancelAsync().ConfigureAwait(false);
            await ticker.ConfigureAwait(false);
        }

        return final;
    }

    /// <summary>The client key the in-process scheduler files queue jobs under.</summary>
    private const string QueueClient = "queue";

    /// <summary>Publishes a job's events one after another, so the client sees them in the order they happened.</summary>
    private async Task PumpAsync(string subject, ChannelReader<QueueEvent> reader)
    {
        await foreach (var evt in reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            try
            {
                await nats!.PublishAsync(subject, QueueJson.Serialize(evt), cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (NatsException ex)
            {
                logger.LogDebug("An event was lost: {Reason}", ex.Message);
            }
        }
    }

    /// <summary>While a job runs: progress so the queue does not redeliver it, and a ping so a vanished client's run is killed.</summary>
    private async Task KeepAliveAsync(INatsJSMsg<byte[]> message, string subject, int attempt, CancellationTokenSource run, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(options.AckWait / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                await TryAsync(() => message.AckProgressAsync(cancellationToken: stop)).ConfigureAwait(false);
                if (await AskAsync(subject, new QueueEvent(QueueEventKind.Ping, attempt, options.HostId), stop).ConfigureAwait(false) == Answer.Gone)
                {
                    logger.LogInformation("The client of job {Subject} is gone; killing the run", subject);
                    await run.CancelAsync().ConfigureAwait(false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The job is done.
        }
    }

    private async Task ListenForCancelsAsync(NatsConnection connection, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var message in connection.SubscribeAsync<byte[]>(subjects.AnyCancel, cancellationToken: stoppingToken).ConfigureAwait(false))
            {
                var jobId = message.Subject[(message.Subject.LastIndexOf('.') + 1)..];
                if (running.TryGetValue(jobId, out var run))
                {
                    logger.LogInformation("Job {JobId}: cancel received", jobId);
                    await TryAsync(() => new ValueTask(run.CancelAsync())).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Every job is done.
        }
    }

    private async Task AnswerMetadataAsync(NatsConnection connection, CancellationToken stoppingToken)
    {
        try
        {
            // A queue group: one host answers each request. A draining host leaves it.
            await foreach (var message in connection.SubscribeAsync<byte[]>(subjects.Api("*"), queueGroup: subjects.HostGroup, cancellationToken: stoppingToken).ConfigureAwait(false))
            {
                var method = message.Subject[(message.Subject.LastIndexOf('.') + 1)..];
                QueueApiReply reply;
                try
                {
                    object result = method switch
                    {
                        "languages" => await rpc.LanguagesAsync(stoppingToken).ConfigureAwait(false),
                        "problems" => await rpc.ProblemsAsync(stoppingToken).ConfigureAwait(false),
                        "problem" => await rpc.ProblemAsync(QueueJson.Deserialize<ProblemParams>(message.Data) ?? new ProblemParams(""), stoppingToken).ConfigureAwait(false),
                        _ => throw new SandboxRpcException(SandboxErrorCode.InvalidRequest, $"unknown method '{method}'"),
                    };
                    reply = new QueueApiReply(JsonSerializer.SerializeToElement(result, result.GetType(), QueueJson.Options));
                }
                catch (SandboxRpcException ex)
                {
                    reply = new QueueApiReply(Code: ex.Code, Message: ex.Message);
                }
                catch (JsonException)
                {
                    reply = new QueueApiReply(Code: SandboxErrorCode.InvalidRequest, Message: $"'{method}' needs a JSON parameter object");
                }

                await TryAsync(() => message.ReplyAsync(QueueJson.Serialize(reply), cancellationToken: stoppingToken)).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Draining: other hosts answer from now on.
        }
    }

    private enum Answer
    {
        Go,
        Gone,
        NoConnection,
    }

    /// <summary>Sends a request on the job's subject. No listener (the client is gone) or a <c>gone</c> answer: <see cref="Answer.Gone"/>.</summary>
    private async Task<Answer> AskAsync(string subject, QueueEvent evt, CancellationToken cancellationToken)
    {
        try
        {
            var reply = await nats!.RequestAsync<byte[], byte[]>(
                subject,
                QueueJson.Serialize(evt),
                replyOpts: new NatsSubOpts { Timeout = AnswerTimeout },
                cancellationToken: cancellationToken).ConfigureAwait(false);
            if (reply.HasNoResponders)
            {
                return Answer.Gone;
            }

            return reply.Data is { } data && Encoding.UTF8.GetString(data) == QueueSubjects.Go ? Answer.Go : Answer.Gone;
        }
        catch (NatsNoRespondersException)
        {
            return Answer.Gone;
        }
        catch (NatsNoReplyException)
        {
            // Connected, but the client did not answer in time: it is stuck or gone.
            return nats!.ConnectionState == NatsConnectionState.Open ? Answer.Gone : Answer.NoConnection;
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            return Answer.NoConnection;
        }
    }

    /// <summary>A result too big for one message goes without its stdout and stderr, which the client rebuilds from what streamed.</summary>
    private QueueEvent Fit(QueueEvent final)
    {
        var limit = (nats?.ServerInfo?.MaxPayload ?? 1024 * 1024) - 4096;
        if (final.RunResult is { } result && QueueJson.Serialize(final).Length > limit)
        {
            return final with { RunResult = result with { Stdout = "", Stderr = "", StdoutBytes = default, StderrBytes = default }, OutputElided = true };
        }

        return final;
    }

    /// <summary>A job's limits lowered to this host's maximum: a job may ask for less, never for more.</summary>
    private LimitOverrides? Clamp(LimitOverrides? limits)
    {
        if (limits is null)
        {
            return null;
        }

        var max = rpcOptions.MaxLimits;
        return new LimitOverrides(
            limits.TimeLimitSeconds is { } t ? Math.Min(t, max.CpuTime.TotalSeconds) : null,
            limits.MemoryLimitMb is { } m ? (int)Math.Min(m, max.MemoryBytes / (1024 * 1024)) : null,
            limits.OutputLimitKb is { } o ? (int)Math.Min(o, max.OutputBytes / 1024) : null,
            limits.Processes is { } p ? Math.Min(p, max.Processes) : null);
    }

    private static QueueJob? ReadJob(byte[]? data)
    {
        try
        {
            var job = QueueJson.Deserialize<QueueJob>(data);
            if (job is null || job.JobId is not { Length: 32 } id || !id.All(char.IsAsciiHexDigitLower))
            {
                return null;
            }

            return (job.Kind, job.Run, job.Check) switch
            {
                (QueueJobKind.Run, not null, null) or (QueueJobKind.Check, null, not null) => job,
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private void Count(string outcome) => outcomes.AddOrUpdate(outcome, 1, static (_, n) => n + 1);

    private async Task TryAsync(Func<ValueTask> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            logger.LogDebug("Queue call failed: {Reason}", ex.Message);
        }
    }

    private static void Gauge(StringBuilder text, string name, string help, string labels, long value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name}{labels} {value}\n");

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>The consumer, set up again when the NATS server came back without it.</summary>
    private sealed class ConsumerHolder(INatsJSConsumer consumer)
    {
        private readonly SemaphoreSlim gate = new(1, 1);

        public INatsJSConsumer Consumer { get; private set; } = consumer;

        public async Task RefreshAsync(QueueWorker worker, CancellationToken cancellationToken)
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                Consumer = await worker.EnsureQueueAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private sealed class Relay<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

/// <summary>Adds lines to the host's <c>/metrics</c>.</summary>
internal interface IMetricsContributor
{
    /// <summary>Appends metrics in the Prometheus text format.</summary>
    Task WriteMetricsAsync(StringBuilder text, CancellationToken cancellationToken);
}
