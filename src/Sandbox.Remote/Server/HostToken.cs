using System.Security.Cryptography;
using System.Text;

namespace Sandbox.Remote.Server;

/// <summary>The bearer token of a runner host, read from a file and compared in constant time.</summary>
public sealed class HostToken
{
    /// <summary>Shortest token accepted.</summary>
    public const int MinimumLength = 16;

    private readonly byte[] digest;

    private HostToken(string token)
    {
        digest = SHA256.HashData(Encoding.UTF8.GetBytes(token));
    }

    /// <summary>Reads and checks the token file: it must exist, be private to its owner and hold a long enough token.</summary>
    public static HostToken FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new SandboxHostConfigurationException($"token file '{path}' does not exist (create one: `openssl rand -hex 32 > {path} && chmod 600 {path}`)");
        }

        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode shared = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute
                | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
            if ((File.GetUnixFileMode(path) & shared) != 0)
            {
                throw new SandboxHostConfigurationException($"token file '{path}' is readable by other users; run `chmod 600 {path}`");
            }
        }

        var token = File.ReadAllText(path).Trim();
        if (token.Length < MinimumLength || token.Any(char.IsWhiteSpace))
        {
            throw new SandboxHostConfigurationException(
                $"token file '{path}' must hold one token of at least {MinimumLength} characters without spaces (e.g. `openssl rand -hex 32`)");
        }

        return new HostToken(token);
    }

    /// <summary>Reads a token file on the client side: no permission check, the same shape rules.</summary>
    public static string ReadClientToken(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"token file '{path}' does not exist", path);
        }

        var token = File.ReadAllText(path).Trim();
        if (token.Length == 0)
        {
            throw new InvalidDataException($"token file '{path}' is empty");
        }

        return token;
    }

    /// <summary>Whether an <c>Authorization</c> header value carries this token; constant time in the token's content.</summary>
    public bool Matches(string? authorizationHeader)
    {
        const string scheme = "Bearer ";
        if (authorizationHeader is null || !authorizationHeader.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Hashing first makes the comparison independent of where the strings differ and of their lengths.
        var offered = SHA256.HashData(Encoding.UTF8.GetBytes(authorizationHeader[scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(offered, digest);
    }
}
