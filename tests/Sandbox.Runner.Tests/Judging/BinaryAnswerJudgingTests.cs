using Sandbox.Runner.Judging;
using Sandbox.Runner.Tests.Infrastructure;

namespace Sandbox.Runner.Tests.Judging;

/// <summary>
/// With the real engine: judging compares the program's own stdout bytes with the answer's bytes, both with the default
/// validator and with a custom validator (which reads the team output on its stdin), never a re-encoding of decoded text.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class BinaryAnswerJudgingTests(SandboxFixture sandbox) : IDisposable
{
    /// <summary>"café" in Latin-1: 0xE9 alone is not UTF-8.</summary>
    private static readonly byte[] Latin1Cafe = [.. "caf"u8, 0xE9, (byte)'\n'];

    /// <summary>U+FFFD (the replacement character) in UTF-8, which invalid bytes used to turn into before judging.</summary>
    private static readonly byte[] ReplacementCharacter = [0xEF, 0xBF, 0xBD, (byte)'\n'];

    // A custom validator that accepts exactly the answer's bytes (exit 42) and rejects anything else (exit 43).
    private const string ExactBytesValidator = """
        import sys
        with open(sys.argv[2], 'rb') as f:
            answer = f.read()
        sys.exit(42 if sys.stdin.buffer.read() == answer else 43)
        """;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, string, bool, TestVerdict> Cases() => new()
    {
        // Answer, the bytes the program prints (Python bytes literal), custom validator?, verdict.
        { "latin1", @"b'caf\xe9\n'", false, TestVerdict.Accepted },
        { "latin1", @"b'caf\xe9\n'", true, TestVerdict.Accepted },
        { "latin1", @"'café\n'.encode()", false, TestVerdict.WrongAnswer }, // the same word in UTF-8 is other bytes
        { "latin1", @"'café\n'.encode()", true, TestVerdict.WrongAnswer },
        { "latin1", @"b'caf\xe8\n'", false, TestVerdict.WrongAnswer }, // another invalid byte: both used to become U+FFFD
        { "latin1", @"b'caf\xe8\n'", true, TestVerdict.WrongAnswer },
        { "replacement", @"b'\xff\n'", false, TestVerdict.WrongAnswer }, // 0xFF is not U+FFFD
        { "replacement", @"b'\xff\n'", true, TestVerdict.WrongAnswer },
        { "replacement", @"'\ufffd\n'.encode()", false, TestVerdict.Accepted },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Check_AnswerThatIsNotUtf8_IsComparedWithTheProgramsExactBytes(string answer, string printed, bool customValidator, TestVerdict expected)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        string folder = Path.Combine(_temp.Path, $"{answer}-{(customValidator ? "custom" : "default")}");
        _temp.Write(Path.Combine(folder, "problem.yaml"), customValidator ? "name: Bytes\nvalidation: custom\n" : "name: Bytes\n");
        _temp.Write(Path.Combine(folder, "data", "secret", "1.in"), "\n");
        await File.WriteAllBytesAsync(Path.Combine(folder, "data", "secret", "1.ans"), answer == "latin1" ? Latin1Cafe : ReplacementCharacter, timeout.Token);
        if (customValidator)
        {
            _temp.Write(Path.Combine(folder, "output_validators", "exact", "validate.py"), ExactBytesValidator);
        }

        var judge = new Judge(sandbox.Runner, sandbox.Languages, Libraries.Create(folders: []), null, null, sandbox.Options);
        string program = $"import sys\nsys.stdout.buffer.write({printed})\n";

        var result = await judge.CheckAsync(new CheckRequest("python", program, folder), null, timeout.Token);

        Assert.True(expected == result.Verdict, $"expected {expected}: {System.Text.Json.JsonSerializer.Serialize(result)}");
    }
}
