using System.Globalization;
using Foresight.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Foresight.Simulation.Scenarios;

/// <summary>Error reporting and line bookkeeping shared by every mapping of one YAML file.</summary>
internal sealed class YamlContext(string file)
{
    public string File { get; } = file;

    public Dictionary<string, long> Lines { get; } = new(StringComparer.Ordinal);

    public InvalidInputException Error(string path, string problem, long? line) => new(File, problem, line, path.Length == 0 ? null : path);

    public InvalidInputException Error(string path, string problem, YamlNode node) => Error(path, problem, LineOf(node));

    public static long LineOf(YamlNode node) => node.Start.Line;
}

/// <summary>An inclusive or exclusive numeric range with the message a violation gets.</summary>
internal readonly record struct NumberRange(double Min, bool MinExclusive, double Max)
{
    public static NumberRange Positive(double max) => new(0, true, max);

    public static NumberRange NonNegative(double max) => new(0, false, max);

    public static NumberRange Between(double min, double max) => new(min, false, max);

    public string? Check(double value)
    {
        if (MinExclusive ? !(value > Min) : !(value >= Min))
        {
            return Min == 0
                ? (MinExclusive ? "must be greater than 0" : "must be zero or positive")
                : $"must be at least {Min.ToString(CultureInfo.InvariantCulture)}";
        }

        if (value > Max)
        {
            return $"must be at most {Max.ToString(CultureInfo.InvariantCulture)}";
        }

        return null;
    }
}

/// <summary>
/// Strict reading of one YAML mapping: unknown keys are errors (with a suggestion), scalars must have the
/// expected type, and every key's line is recorded under its field path (e.g. <c>apps[1].coldStartSeconds</c>).
/// </summary>
internal sealed class YamlFields
{
    private readonly YamlContext _context;
    private readonly Dictionary<string, (YamlScalarNode Key, YamlNode Value)> _entries = new(StringComparer.Ordinal);

    public YamlFields(YamlContext context, YamlNode node, string path, IReadOnlyList<string> knownFields)
    {
        _context = context;
        Path = path;
        Node = node;
        if (node is not YamlMappingNode mapping)
        {
            throw context.Error(path, $"expected a mapping of fields, got {Describe(node)}", node);
        }

        if (path.Length > 0)
        {
            context.Lines.TryAdd(path, YamlContext.LineOf(node));
        }

        foreach (KeyValuePair<YamlNode, YamlNode> entry in mapping.Children)
        {
            if (entry.Key is not YamlScalarNode { Value: { } name } key)
            {
                throw context.Error(path, "field names must be plain text", entry.Key);
            }

            string child = Child(name);
            if (!knownFields.Contains(name))
            {
                string? suggestion = Suggest(name, knownFields);
                string problem = suggestion is null
                    ? $"unknown field; expected one of: {string.Join(", ", knownFields)}"
                    : $"unknown field; did you mean {suggestion}?";
                throw context.Error(child, problem, key);
            }

            if (!_entries.TryAdd(name, (key, entry.Value)))
            {
                throw context.Error(child, "field given twice", key);
            }

            context.Lines[child] = YamlContext.LineOf(key);
        }
    }

    public string Path { get; }

    public YamlContext Context => _context;

    public YamlNode Node { get; }

    public long Line => YamlContext.LineOf(Node);

    public string Child(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    public bool Has(string name) => _entries.ContainsKey(name);

    /// <summary>The value node, or null when the field is absent or explicitly null.</summary>
    public YamlNode? Value(string name) =>
        _entries.TryGetValue(name, out var entry) && !IsNull(entry.Value) ? entry.Value : null;

    /// <summary>The line of this mapping's own key (<c>sites:</c>), or of its first field when it has no key (a list item).</summary>
    public long KeyLine => _context.Lines.TryGetValue(Path, out long line) ? line : Line;

    /// <summary>An error about field <paramref name="name"/>, at its key's line, or at this mapping's when it is absent.</summary>
    public InvalidInputException Error(string name, string problem) =>
        _context.Error(Child(name), problem, _entries.TryGetValue(name, out var entry) ? YamlContext.LineOf(entry.Key) : KeyLine);

    public string? Text(string name, bool required = false)
    {
        YamlNode? node = Value(name);
        if (node is null)
        {
            return required ? throw MissingOrNull(name) : null;
        }

        if (node is not YamlScalarNode scalar)
        {
            throw Error(name, $"expected text, got {Describe(node)}");
        }

        string text = scalar.Value ?? "";
        if (required && string.IsNullOrWhiteSpace(text))
        {
            throw Error(name, "must not be empty");
        }

        return text;
    }

    public double? Number(string name, NumberRange range, bool required = false)
    {
        YamlNode? node = Value(name);
        if (node is null)
        {
            return required ? throw MissingOrNull(name) : null;
        }

        if (node is not YamlScalarNode { Style: ScalarStyle.Plain, Value: { } text })
        {
            throw Error(name, $"expected a number, got {Describe(node)}");
        }

        bool yamlSpecial = text.TrimStart('+', '-').ToLowerInvariant() is ".nan" or ".inf";
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && !yamlSpecial)
        {
            throw Error(name, $"expected a number, got '{text}'");
        }

        if (yamlSpecial || !double.IsFinite(value))
        {
            throw Error(name, $"must be a finite number, got '{text}'");
        }

        return range.Check(value) is { } problem ? throw Error(name, $"{problem}, got {text}") : value;
    }

    public int? Integer(string name, NumberRange range, bool required = false)
    {
        // Ranges are checked on the double first so that 1e30 is "too large", not an overflow.
        double? value = Number(name, range with { Max = Math.Min(range.Max, int.MaxValue) }, required);
        if (value is null)
        {
            return null;
        }

        if (value.Value != Math.Floor(value.Value))
        {
            throw Error(name, $"expected a whole number, got {value.Value.ToString(CultureInfo.InvariantCulture)}");
        }

        return (int)value.Value;
    }

    public bool? Boolean(string name)
    {
        YamlNode? node = Value(name);
        if (node is null)
        {
            return null;
        }

        if (node is YamlScalarNode { Style: ScalarStyle.Plain, Value: { } text })
        {
            if (string.Equals(text, "true", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }

            if (string.Equals(text, "false", StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        throw Error(name, $"expected true or false, got {Describe(node)}");
    }

    public YamlFields? Mapping(string name, IReadOnlyList<string> knownFields) =>
        Value(name) is { } node ? new YamlFields(_context, node, Child(name), knownFields) : null;

    public IReadOnlyList<YamlNode>? Sequence(string name)
    {
        YamlNode? node = Value(name);
        if (node is null)
        {
            return null;
        }

        return node is YamlSequenceNode sequence
            ? sequence.Children.ToArray()
            : throw Error(name, $"expected a list, got {Describe(node)}");
    }

    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: var v }
        && (v is null || v.Length == 0 || v == "~" || string.Equals(v, "null", StringComparison.OrdinalIgnoreCase));

    public static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode { Style: ScalarStyle.Plain, Value: var v } => $"'{v}'",
        YamlScalarNode { Value: var v } => $"the quoted text \"{v}\"",
        _ => "an unsupported value",
    };

    private InvalidInputException MissingOrNull(string name) =>
        Has(name) ? Error(name, "must not be null") : _context.Error(Child(name), "required field is missing", KeyLine);

    /// <summary>The known field closest to a misspelt one: same letters in another case, a prefix, or a small edit distance.</summary>
    internal static string? Suggest(string name, IReadOnlyList<string> known)
    {
        foreach (string k in known)
        {
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
            {
                return k;
            }
        }

        foreach (string k in known)
        {
            if (name.Length >= 3 && k.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                return k;
            }
        }

        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string k in known)
        {
            int d = EditDistance(name.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance)
            {
                best = k;
                bestDistance = d;
            }
        }

        return bestDistance <= Math.Max(2, name.Length / 3) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitute = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitute, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
