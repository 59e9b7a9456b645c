using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Sandbox.Remote.Contract;

namespace Sandbox.Remote.InProcess;

/// <summary>What kind of request a metric counts.</summary>
public enum RunKind
{
    /// <summary>A <c>run</c> request.</summary>
    Run,
    /// <summary>A <c>check</c> request.</summary>
    Check,
}

/// <summary>
/// Counters of a runner, written in the Prometheus text format (version 0.0.4) at <c>/metrics</c>.
/// Labels are bounded: the language label is a catalog id (or <c>unknown</c>), never what a client typed.
/// </summary>
public sealed class SandboxMetrics
{
    private static readonly double[] Buckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly ConcurrentDictionary<(RunKind Kind, string Language, string Verdict), long> runs = new();
    private readonly ConcurrentDictionary<SandboxErrorCode, long> errors = new();
    private readonly Histogram[] latency = [new(), new()];
    private long connections;

    /// <summary>Reads the scheduler's gauges when the metrics are written; set by the in-process runner.</summary>
    internal Func<(int Slots, int Busy, int Queued)>? Gauges { get; set; }

    /// <summary>WebSocket connections open now.</summary>
    public long Connections => Interlocked.Read(ref connections);

    /// <summary>Counts a finished run or check.</summary>
    public void RecordFinished(RunKind kind, string language, string verdict, TimeSpan duration)
    {
        runs.AddOrUpdate((kind, language, verdict), 1, static (_, n) => n + 1);
        latency[(int)kind].Observe(duration.TotalSeconds);
    }

    /// <summary>Counts a request that failed with an error code.</summary>
    public void RecordError(SandboxErrorCode code) => errors.AddOrUpdate(code, 1, static (_, n) => n + 1);

    /// <summary>Counts a connection opening (+1) or closing (-1).</summary>
    public void AddConnections(int delta) => Interlocked.Add(ref connections, delta);

    /// <summary>Finished runs with these labels (for tests and the CLI).</summary>
    public long Finished(RunKind kind, string language, string verdict) =>
        runs.TryGetValue((kind, language, verdict), out var n) ? n : 0;

    /// <summary>The metrics in the Prometheus text exposition format.</summary>
    public string ToPrometheusText()
    {
        var text = new StringBuilder();
        text.AppendLine("# HELP sandbox_runs_total Runs and checks finished, by kind, language and verdict.");
        text.AppendLine("# TYPE sandbox_runs_total counter");
        foreach (var ((kind, language, verdict), count) in runs.OrderBy(r => r.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"sandbox_runs_total{{kind=\"{Kebab(kind)}\",language=\"{Escape(language)}\",verdict=\"{Escape(verdict)}\"}} {count}\n");
        }

        text.AppendLine("# HELP sandbox_request_errors_total Requests that failed, by error code.");
        text.AppendLine("# TYPE sandbox_request_errors_total counter");
        foreach (var (code, count) in errors.OrderBy(e => e.Key))
        {
            text.Append(CultureInfo.InvariantCulture, $"sandbox_request_errors_total{{code=\"{Kebab(code)}\"}} {count}\n");
        }

        var (slots, busy, queued) = Gauges?.Invoke() ?? (0, 0, 0);
        Gauge(text, "sandbox_slots", "Runs that can execute at once.", slots);
        Gauge(text, "sandbox_busy_slots", "Slots executing a run now.", busy);
        Gauge(text, "sandbox_queue_depth", "Runs waiting for a slot.", queued);
        Gauge(text, "sandbox_connections", "Open WebSocket connections.", Connections);

        text.AppendLine("# HELP sandbox_run_duration_seconds Time from request to result, including the wait for a slot.");
        text.AppendLine("# TYPE sandbox_run_duration_seconds histogram");
        foreach (var kind in Enum.GetValues<RunKind>())
        {
            latency[(int)kind].Write(text, "sandbox_run_duration_seconds", $"kind=\"{Kebab(kind)}\"");
        }

        return text.ToString();
    }

    private static void Gauge(StringBuilder text, string name, string help, long value)
    {
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n");
    }

    private static string Kebab<T>(T value)
        where T : struct, Enum => System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class Histogram
    {
        private readonly long[] counts = new long[Buckets.Length + 1];
        private readonly object gate = new();
        private double sum;

        public void Observe(double seconds)
        {
            lock (gate)
            {
                var i = 0;
                while (i < Buckets.Length && seconds > Buckets[i])
                {
                    i++;
                }

                counts[i]++;
                sum += seconds;
            }
        }

        public void Write(StringBuilder text, string name, string labels)
        {
            lock (gate)
            {
                long cumulative = 0;
                for (var i = 0; i < Buckets.Length; i++)
                {
                    cumulative += counts[i];
                    text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{Buckets[i]}\"}} {cumulative}\n");
                }

                cumulative += counts[^1];
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {sum}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_count{{{labels}}} {cumulative}\n");
            }
        }
    }
}
