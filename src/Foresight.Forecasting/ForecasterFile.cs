using System.Text;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Ensembles;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting;

/// <summary>
/// The saved-model format: a header (magic "FSFC", format version, model name) and then the model's own payload,
/// little-endian through <see cref="BinaryWriter"/>. A reader refuses a newer format version than it knows.
/// </summary>
public static class ForecasterFile
{
    /// <summary>Bumped when the header or any payload layout changes.</summary>
    public const int FormatVersion = 1;

    private static readonly byte[] Magic = "FSFC"u8.ToArray();

    /// <summary>Reads a model written by <see cref="IForecaster.Save"/>.</summary>
    /// <exception cref="InvalidDataException">Not a model file, or a version or model this build does not know.</exception>
    public static IForecaster Load(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        string name = ReadHeader(reader);
        return name switch
        {
            SeasonalNaiveForecaster.ModelName => SeasonalNaiveForecaster.ReadPayload(reader),
            EtsForecaster.ModelName => EtsForecaster.ReadPayload(reader),
            RecurrentForecaster.LstmName or RecurrentForecaster.GruName => RecurrentForecaster.ReadPayload(reader, name),
            EnsembleForecaster.ModelName => EnsembleForecaster.ReadPayload(reader),
            EsRnnForecaster.LstmName or EsRnnForecaster.GruName => EsRnnForecaster.ReadPayload(reader, name),
            _ => throw new InvalidDataException($"Unknown model '{name}' in the model file."),
        };
    }

    internal static BinaryWriter WriteHeader(Stream stream, string modelName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(modelName);
        return writer;
    }

    private static string ReadHeader(BinaryReader reader)
    {
        byte[] magic = reader.ReadBytes(Magic.Length);
        if (!magic.AsSpan().SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a Foresight model file (bad magic).");
        }

        int version = reader.ReadInt32();
        if (version < 1 || version > FormatVersion)
        {
            throw new InvalidDataException($"Model file format version {version} is not supported (this build reads 1..{FormatVersion}).");
        }

        return reader.ReadString();
    }

    internal static void WriteDoubles(BinaryWriter writer, ReadOnlySpan<double> values)
    {
        writer.Write(values.Length);
        foreach (double v in values)
        {
            writer.Write(v);
        }
    }

    internal static double[] ReadDoubles(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n < 0)
        {
            throw new InvalidDataException("Negative array length in model file.");
        }

        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = reader.ReadDouble();
        }

        return values;
    }

    internal static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        writer.Write(values.Length);
        foreach (float v in values)
        {
            writer.Write(v);
        }
    }

    internal static float[] ReadFloats(BinaryReader reader)
    {
        int n = reader.ReadInt32();
        if (n < 0)
        {
            throw new InvalidDataException("Negative array length in model file.");
        }

        var values = new float[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = reader.ReadSingle();
        }

        return values;
    }

    internal static void WriteTimestamp(BinaryWriter writer, DateTimeOffset? t)
    {
        writer.Write(t is not null);
        if (t is { } v)
        {
            writer.Write(v.UtcTicks);
            writer.Write((short)v.Offset.TotalMinutes);
        }
    }

    internal static DateTimeOffset? ReadTimestamp(BinaryReader reader)
    {
        if (!reader.ReadBoolean())
        {
            return null;
        }

        long ticks = reader.ReadInt64();
        short offsetMinutes = reader.ReadInt16();
        return new DateTimeOffset(ticks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));
    }
}
