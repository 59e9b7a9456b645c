using Sandbox.Remote.Client;

namespace Sandbox.Remote.Queue;

/// <summary>Settings of a runner host that consumes the shared work queue (<c>sandbox host --queue nats://HOST:4222</c>).</summary>
public sealed class QueueHostOptions
{
    /// <summary>The NATS server and credentials.</summary>
    public required QueueConnection Connection { get; init; }

    /// <summary>This host's id in events, logs and metrics. Default: the machine name and process id.</summary>
    public string HostId { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";

    /// <summary>
    /// How long a job may go without an acknowledgement or a progress signal before the queue gives it to another host:
    /// the bound on how late a dead host's jobs restart. A running job sends progress every third of it. Default 15 s.
    /// </summary>
    public TimeSpan AckWait { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Jobs the stream holds at once, waiting or running; past this, clients get <c>host-busy</c> at once. Default 1000.</summary>
    public long MaxPending { get; init; } = 1000;

    /// <summary>Largest job (source, stdin and limits as JSON), in bytes; larger ones are refused. Default 1 MiB (NATS's default payload maximum).</summary>
    public int MaxJobBytes { get; init; } = 1024 * 1024;

    /// <summary>Deliveries of one job before the queue gives up on it (each one a host that died running it). Default 5.</summary>
    public int MaxDeliver { get; init; } = 5;

    /// <summary>How long a stopping host (SIGTERM) waits for its running jobs; jobs still running then go back to the queue. Default 2 min.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Throws <see cref="SandboxUsageException"/> naming the bad setting.</summary>
    public void Validate()
    {
        Connection.Validate("--queue");
        if (AckWait < TimeSpan.FromSeconds(1) || AckWait > TimeSpan.FromMinutes(10))
        {
            throw new SandboxUsageException($"--queue-ack-wait must be between 1 and 600 seconds (got {AckWait.TotalSeconds})");
        }

        if (MaxPending < 1)
        {
            throw new SandboxUsageException($"--queue-max-pending must be 1 or more (got {MaxPending})");
        }

        if (MaxJobBytes is < 1024 or > 64 * 1024 * 1024)
        {
            throw new SandboxUsageException($"--queue-max-job-size must be between 1 KiB and 64 MiB (got {MaxJobBytes} bytes)");
        }

        if (MaxDeliver < 1)
        {
            throw new SandboxUsageException($"max deliveries must be 1 or more (got {MaxDeliver})");
        }

        if (string.IsNullOrWhiteSpace(HostId) || HostId.Length > 128)
        {
            throw new SandboxUsageException("--host-id must be 1 to 128 characters");
        }
    }
}
