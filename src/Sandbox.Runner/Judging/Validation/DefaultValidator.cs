using System.Globalization;
using System.Text;

namespace Sandbox.Runner.Judging.Validation;

/// <summary>What a validator decided, with a human message (shown for samples only).</summary>
/// <param name="Accepted">True when the output is accepted.</param>
/// <param name="Message">Why it was rejected (the first difference), or null when accepted.</param>
internal readonly record struct ValidationOutcome(bool Accepted, string? Message)
{
    public static ValidationOutcome Accept { get; } = new(true, null);

    public static ValidationOutcome Reject(string message) => new(false, message);
}

/// <summary>
/// The default output validator of the Kattis / ICPC problem package format
/// (https://www.kattis.com/problem-package-format/spec/legacy.html#default-output-validator-specification):
/// the output and the answer are split into tokens at whitespace and compared token by token.
/// <list type="bullet">
/// <item>Tokens compare case-insensitively (ASCII) unless <c>case_sensitive</c>.</item>
/// <item>Any run of whitespace equals any other unless <c>space_change_sensitive</c>; then every whitespace byte
/// before, between and after the tokens must match exactly.</item>
/// <item>With a float tolerance set, an answer token that is a finite decimal number is compared numerically:
/// the output token must be a number too (in any valid formatting, e.g. <c>3.14e-2</c> for <c>0.0314</c>) and is
/// accepted if within the absolute or the relative tolerance of the answer (either suffices). Without a
/// tolerance, numbers are plain tokens.</item>
/// </list>
/// Works on bytes: the files are UTF-8 but only ASCII whitespace and letters have meaning here.
/// </summary>
internal static class DefaultValidator
{
    private const int MaxTokenShown = 40;

    /// <summary>Compares <paramref name="output"/> (the program's stdout) with <paramref name="answer"/> (the judge's answer).</summary>
    public static ValidationOutcome Validate(ReadOnlySpan<byte> answer, ReadOnlySpan<byte> output, ValidatorOptions options)
    {
        var judge = new Cursor(answer);
        var team = new Cursor(output);
        bool useFloats = options.FloatAbsoluteTolerance is not null || options.FloatRelativeTolerance is not null;

        while (true)
        {
            var judgeSpace = judge.SkipSpace();
            var teamSpace = team.SkipSpace();
            if (options.SpaceChangeSensitive && !judgeSpace.SequenceEqual(teamSpace))
            {
                return Mismatch(judge, team, "whitespace differs (space_change_sensitive)");
            }

            var judgeToken = judge.NextToken();
            if (judgeToken.IsEmpty)
            {
                var extra = team.NextToken();
                return extra.IsEmpty
                    ? ValidationOutcome.Accept
                    : Mismatch(judge, team, $"unexpected extra output: {Show(extra)}");
            }

            var teamToken = team.NextToken();
            if (teamToken.IsEmpty)
            {
                return Mismatch(judge, team, $"output ended early; expected {Show(judgeToken)}");
            }

            if (useFloats && TryParseFloat(judgeToken, out double expected))
            {
                if (!TryParseFloat(teamToken, out double actual))
                {
                    return Mismatch(judge, team, $"expected a number like {Show(judgeToken)}, got {Show(teamToken)}");
                }

                double difference = Math.Abs(expected - actual);
                bool withinAbsolute = options.FloatAbsoluteTolerance is { } abs && difference <= abs;
                bool withinRelative = options.FloatRelativeTolerance is { } rel && difference <= rel * Math.Abs(expected);
                if (!withinAbsolute && !withinRelative)
                {
                    return Mismatch(judge, team, $"expected {Show(judgeToken)}, got {Show(teamToken)} (difference {difference.ToString("G6", CultureInfo.InvariantCulture)})");
                }
            }
            else if (!TokensEqual(judgeToken, teamToken, options.CaseSensitive))
            {
                return Mismatch(judge, team, $"expected {Show(judgeToken)}, got {Show(teamToken)}");
            }
        }
    }

    /// <summary>
    /// True when <paramref name="token"/> is a finite decimal floating-point number:
    /// <c>[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?</c>, as C's <c>strtod</c> reads them.
    /// </summary>
    internal static bool TryParseFloat(ReadOnlySpan<byte> token, out double value)
    {
        value = 0;
        int i = 0;
        if (i < token.Length && (token[i] == '+' || token[i] == '-'))
        {
            i++;
        }

        int digitsBefore = CountDigits(token, ref i);
        int digitsAfter = 0;
        if (i < token.Length && token[i] == '.')
        {
            i++;
            digitsAfter = CountDigits(token, ref i);
        }

        if (digitsBefore + digitsAfter == 0)
        {
            return false;
        }

        if (i < token.Length && (token[i] == 'e' || token[i] == 'E'))
        {
            i++;
            if (i < token.Length && (token[i] == '+' || token[i] == '-'))
            {
                i++;
            }

            if (CountDigits(token, ref i) == 0)
            {
                return false;
            }
        }

        if (i != token.Length)
        {
            return false;
        }

        return double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);
    }

    private static int CountDigits(ReadOnlySpan<byte> token, ref int i)
    {
        int start = i;
        while (i < token.Length && token[i] is >= (byte)'0' and <= (byte)'9')
        {
            i++;
        }

        return i - start;
    }

    private static bool TokensEqual(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool caseSensitive)
    {
        if (caseSensitive || a.Length != b.Length)
        {
            return a.SequenceEqual(b);
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (ToLowerAscii(a[i]) != ToLowerAscii(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static byte ToLowerAscii(byte c) => c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c + 32) : c;

    private static bool IsSpace(byte c) => c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    private static ValidationOutcome Mismatch(Cursor judge, Cursor team, string what) =>
        ValidationOutcome.Reject($"line {team.Line} of output (line {judge.Line} of answer): {what}");

    private static string Show(ReadOnlySpan<byte> token)
    {
        string text = Encoding.UTF8.GetString(token.Length > MaxTokenShown ? token[..MaxTokenShown] : token);
        return token.Length > MaxTokenShown ? $"\"{text}...\"" : $"\"{text}\"";
    }

    /// <summary>Reads a byte buffer as alternating whitespace runs and tokens, counting lines.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        /// <summary>1-based line of the current position.</summary>
        public int Line { get; private set; } = 1;

        public ReadOnlySpan<byte> SkipSpace()
        {
            int start = _position;
            while (_position < _data.Length && IsSpace(_data[_position]))
            {
                if (_data[_position] == '\n')
                {
                    Line++;
                }

                _position++;
            }

            return _data[start.._position];
        }

        public ReadOnlySpan<byte> NextToken()
        {
            int start = _position;
            while (_position < _data.Length && !IsSpace(_data[_position]))
            {
                _position++;
            }

            return _data[start.._position];
        }
    }
}
