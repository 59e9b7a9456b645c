using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Sandbox.Remote.Server;

namespace Sandbox.Cli.Serve;

/// <summary>
/// Keeps <c>sandbox serve</c> and <c>sandbox lsp --ws</c> to this machine. They have no authentication of their own
/// and run code (as root, with the embedded runner): they listen on loopback only, and answer only requests addressed
/// to a loopback name. The second half stops DNS rebinding: a page of evil.example whose name is made to resolve to
/// 127.0.0.1 reaches the server from the browser with <c>Host</c> and <c>Origin</c> both naming evil.example, so the
/// WebSocket origin check (Origin equals Host) alone lets it in; the <c>Host</c> check does not.
/// </summary>
internal static class LoopbackGuard
{
    /// <summary>
    /// The one-line reason <paramref name="urls"/> (<c>;</c>-separated) may not be listened on, or null when every
    /// address is a loopback one.
    /// </summary>
    public static string? RefuseNonLoopback(string urls, string option)
    {
        var outside = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .FirstOrDefault(url => !SandboxHostOptions.IsLoopbackUrl(url));
        return outside is null
            ? null
            : $"refusing to listen on {outside} ({option}): this server has no authentication and runs code on this machine, so it listens on loopback only "
              + "(http://127.0.0.1:PORT); to reach it from elsewhere put a reverse proxy with authentication in front (--allow-host NAME for its host name), "
              + "or run programs on a runner host (`sandbox host --token-file F`)";
    }

    /// <summary>
    /// Answers 403 to any request whose <c>Host</c> is not a loopback name (<c>localhost</c>, <c>*.localhost</c>,
    /// 127.0.0.0/8, <c>[::1]</c>) or one of <paramref name="allowedHosts"/> (a reverse proxy's public name).
    /// </summary>
    public static IApplicationBuilder UseLoopbackHostCheck(this IApplicationBuilder app, IReadOnlyCollection<string> allowedHosts) =>
        app.Use((context, next) =>
        {
            if (IsAllowedHost(context.Request.Host, allowedHosts))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(
                $"Sandbox: refused: this server answers only requests for localhost, 127.0.0.1 or [::1], not '{context.Request.Host}' "
                + "(a page of another site must not reach it through DNS rebinding); behind a reverse proxy, start it with --allow-host NAME.\n",
                context.RequestAborted);
        });

    /// <summary>Null when <paramref name="name"/> can be given to --allow-host (a host name or address, no scheme or port), else why not.</summary>
    public static string? CheckAllowedHost(string name) =>
        Uri.CheckHostName(name) is UriHostNameType.Unknown
            ? $"--allow-host '{name}' must be a host name such as play.example.org (no scheme, port or path)"
            : null;

    /// <summary>True when <paramref name="host"/> names this machine's loopback, or is one of <paramref name="allowedHosts"/> (any port).</summary>
    internal static bool IsAllowedHost(HostString host, IReadOnlyCollection<string> allowedHosts)
    {
        // HostString.Host is the name without the port; an IPv6 literal keeps its brackets.
        var name = host.HasValue ? host.Host.TrimEnd('.') : "";
        if (name.Length == 0)
        {
            // HTTP/1.1 requires Host; only a hand-made HTTP/1.0 request lacks it, and a browser never sends one.
            return false;
        }

        if (name.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || name.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)
            || allowedHosts.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        // A literal address only; TryParse also reads 127.1 and 2130706433, which browsers too take as 127.0.0.1, not as names.
        return IPAddress.TryParse(name.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address);
    }
}
