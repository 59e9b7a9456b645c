namespace Sandbox.Lsp.Hosting;

/// <summary>Whether a session reads files of the server's machine when its client names them.</summary>
public enum ServerFileAccess
{
    /// <summary>
    /// The client is the user who started the server (stdio): <c>file:</c> URIs that are not open, the
    /// <c>stdinFile</c> and <c>tokenFile</c> settings and problem paths are read from this machine.
    /// </summary>
    Allowed,

    /// <summary>
    /// The client is across a network (WebSocket) and the server may run as another user (root, for LXC): it works only
    /// on what the client sent (didOpen/didChange, stdin in the command) and finds problems by library id only.
    /// </summary>
    Denied,
}
