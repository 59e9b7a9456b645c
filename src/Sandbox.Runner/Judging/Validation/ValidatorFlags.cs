using System.Globalization;

namespace Sandbox.Runner.Judging.Validation;

/// <summary>
/// Reads the default validator's command-line flags (<c>validator_flags</c> in <c>problem.yaml</c>,
/// <c>output_validator_flags</c> in <c>testdata.yaml</c>): <c>case_sensitive</c>, <c>space_change_sensitive</c>,
/// <c>float_absolute_tolerance ε</c>, <c>float_relative_tolerance ε</c>, <c>float_tolerance ε</c> (both).
/// </summary>
internal static class ValidatorFlags
{
    /// <summary>Splits a flags string at whitespace.</summary>
    public static IReadOnlyList<string> Split(string? flags) =>
        string.IsNullOrWhiteSpace(flags) ? [] : flags.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Applies <paramref name="flags"/> on top of <paramref name="options"/>; unknown flags are a fault of <paramref name="file"/>.</summary>
    public static ValidatorOptions Apply(ValidatorOptions options, IReadOnlyList<string> flags, string file)
    {
        for (int i = 0; i < flags.Count; i++)
        {
            switch (flags[i])
            {
                case "case_sensitive":
                    options = options with { CaseSensitive = true };
                    break;
                case "space_change_sensitive":
                    options = options with { SpaceChangeSensitive = true };
                    break;
                case "float_absolute_tolerance":
                    options = options with { FloatAbsoluteTolerance = Tolerance(flags, ++i, file) };
                    break;
                case "float_relative_tolerance":
                    options = options with { FloatRelativeTolerance = Tolerance(flags, ++i, file) };
                    break;
                case "float_tolerance":
                    double both = Tolerance(flags, ++i, file);
                    options = options with { FloatAbsoluteTolerance = both, FloatRelativeTolerance = both };
                    break;
                default:
                    throw new ProblemFormatException(file, $"unknown default validator flag '{flags[i]}' (known: case_sensitive, space_change_sensitive, float_tolerance, float_absolute_tolerance, float_relative_tolerance)");
            }
        }

        return options;
    }

    /// <summary>Checks a tolerance given in a problem file: a finite number, not negative.</summary>
    public static double CheckTolerance(double value, string flag, string file) =>
        double.IsFinite(value) && value >= 0
            ? value
            : throw new ProblemFormatException(file, $"{flag} must be a non-negative number");

    private static double Tolerance(IReadOnlyList<string> flags, int index, string file)
    {
        string flag = flags[index - 1];
        if (index >= flags.Count
            || !double.TryParse(flags[index], NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            throw new ProblemFormatException(file, $"validator flag {flag} needs a number after it");
        }

        return CheckTolerance(value, flag, file);
    }
}
