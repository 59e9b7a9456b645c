using System.Security.Cryptography;

namespace Sandbox.Cli.Serve;

/// <summary>
/// Share ids: 16 characters drawn from 62 by a cryptographic generator (about 95 bits), so a link cannot be
/// guessed or enumerated; short enough to paste.
/// </summary>
public static class ShareId
{
    /// <summary>Length of every id.</summary>
    public const int Length = 16;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A new random id.</summary>
    public static string New() => new(RandomNumberGenerator.GetItems<char>(Alphabet, Length));

    /// <summary>True when <paramref name="id"/> has the shape of an id (checked before any store lookup).</summary>
    public static bool IsWellFormed(string? id) =>
        id is { Length: Length } && id.All(c => c is (>= '0' and <= '9') or (>= 'A' and <= 'Z') or (>= 'a' and <= 'z'));
}
